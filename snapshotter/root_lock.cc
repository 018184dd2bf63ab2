#include "snapshotter/root_lock.h"

namespace tide::snapshotter {

absl::StatusOr<RootLock> RootLock::Acquire(const std::filesystem::path& root) {
  absl::StatusOr<DirLock> lock = DirLock::Acquire(root, "state directory", "another tide-snapshotter");
  if (!lock.ok()) return lock.status();
  return RootLock(std::move(*lock));
}

}  // namespace tide::snapshotter
