#include "snapshotter/rpc_guard.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/string_view_compat.h"

namespace tide::snapshotter {

grpc::Status EscapedException(std::string_view rpc, const char* what) noexcept {
  try {
    log::Error("snapshot request failed with an exception", {{"rpc", rpc}, {"error", what}});
    return grpc::Status(grpc::StatusCode::INTERNAL, absl::StrCat(Sv(rpc), ": internal error: ", what));
  } catch (...) {
    // Out of memory again: an empty message needs no allocation.
    return grpc::Status(grpc::StatusCode::INTERNAL, std::string());
  }
}

}  // namespace tide::snapshotter
