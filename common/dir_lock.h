#ifndef TIDE_COMMON_DIR_LOCK_H_
#define TIDE_COMMON_DIR_LOCK_H_

#include <filesystem>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace tide {

// Sole ownership of a directory for this object's lifetime: an exclusive flock on <dir>/lock, with
// the holder's pid written into it. flock conflicts between open file descriptions, so a second
// holder in the same process is refused as well.
class DirLock {
 public:
  // Creates dir (0700) when absent and takes the lock without waiting. FailedPrecondition says
  // "<what> <dir> is in use by <holder>" (with the holder's pid when known) when it is taken.
  static absl::StatusOr<DirLock> Acquire(const std::filesystem::path& dir, std::string_view what,
                                         std::string_view holder);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  DirLock(std::filesystem::path dir, UniqueFd fd) : dir_(std::move(dir)), fd_(std::move(fd)) {}
  std::filesystem::path dir_;
  UniqueFd fd_;  // closing it releases the lock
};

}  // namespace tide

#endif  // TIDE_COMMON_DIR_LOCK_H_
