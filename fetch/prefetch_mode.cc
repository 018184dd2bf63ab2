#include "fetch/prefetch_mode.h"

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide::fetch {

absl::StatusOr<PrefetchMode> ParsePrefetchMode(std::string_view text) {
  if (text == "none") return PrefetchMode::kNone;
  if (text == "startup") return PrefetchMode::kStartup;
  if (text == "all") return PrefetchMode::kAll;
  return absl::InvalidArgumentError(
      absl::StrCat("prefetch mode \"", Sv(text), "\": expected none, startup or all"));
}

std::string_view PrefetchModeName(PrefetchMode mode) {
  switch (mode) {
    case PrefetchMode::kNone:
      return "none";
    case PrefetchMode::kStartup:
      return "startup";
    case PrefetchMode::kAll:
      return "all";
  }
  return "?";
}

}  // namespace tide::fetch
