#ifndef TIDE_SNAPSHOTTER_ROOT_LOCK_H_
#define TIDE_SNAPSHOTTER_ROOT_LOCK_H_

#include <filesystem>

#include "absl/status/statusor.h"
#include "common/dir_lock.h"

namespace tide::snapshotter {

// Sole ownership of a tide-snapshotter state directory for this object's lifetime: an exclusive
// flock on <root>/lock. Everything under root (metadata, snapshots, the chunk cache, profiles) may
// only be created, opened, scanned or deleted while one is held, so the daemon takes it before it
// builds anything: a second daemon on the same root must leave the live one's files alone.
class RootLock {
 public:
  // Creates root (0700) when absent and takes the lock without waiting. FailedPrecondition names
  // root (and the holder's pid when known) when another process holds it.
  static absl::StatusOr<RootLock> Acquire(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return lock_.dir(); }

 private:
  explicit RootLock(DirLock lock) : lock_(std::move(lock)) {}
  DirLock lock_;
};

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_ROOT_LOCK_H_
