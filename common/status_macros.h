#ifndef TIDE_COMMON_STATUS_MACROS_H_
#define TIDE_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Early-return helpers so error paths stay one line at call sites.
#define TIDE_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::absl::Status tide_status_ = (expr);        \
    if (!tide_status_.ok()) return tide_status_; \
  } while (0)

#define TIDE_CONCAT_INNER_(a, b) a##b
#define TIDE_CONCAT_(a, b) TIDE_CONCAT_INNER_(a, b)

#define TIDE_ASSIGN_OR_RETURN(lhs, expr) \
  TIDE_ASSIGN_OR_RETURN_IMPL_(TIDE_CONCAT_(tide_statusor_, __LINE__), lhs, expr)

// `statusor` names a variable and `lhs` may declare one (`auto x`); neither can be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define TIDE_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                \
  if (!statusor.ok()) return statusor.status();          \
  lhs = std::move(statusor).value()
// NOLINTEND(bugprone-macro-parentheses)

#endif  // TIDE_COMMON_STATUS_MACROS_H_
