#include "fuse/op_guard.h"

#include "common/log.h"

namespace tide::fuse {

void LogEscapedException(const char* what) noexcept {
  try {
    log::Error("FUSE request failed with an exception; answered EIO", {{"error", what}});
  } catch (...) {
    // Out of memory while logging: the EIO reply is what matters.
  }
}

}  // namespace tide::fuse
