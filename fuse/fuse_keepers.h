#ifndef TIDE_FUSE_FUSE_KEEPERS_H_
#define TIDE_FUSE_FUSE_KEEPERS_H_

#include <sys/types.h>

#include <filesystem>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace tide::fuse {

// Keeps FUSE connections alive across a restart of the daemon serving them. For each mount a small
// process (tide-fuse-keeper) holds a duplicate of the connection's /dev/fuse descriptor: when the
// daemon exits or is killed, the kernel sees the device still open, so the mount stays and the
// requests of its readers wait instead of failing. The next daemon takes the descriptor back from
// the keeper (pidfd_getfd) and serves the same connection. A keeper exits by itself once its
// connection ends (unmount or abort).
//
// Records live in `dir` (root-only), one per mountpoint: the keeper's pid and start time, so a
// recycled pid is never mistaken for a keeper.
class FuseKeepers {
 public:
  // `binary`: the tide-fuse-keeper executable.
  FuseKeepers(std::filesystem::path dir, std::filesystem::path binary);

  // Starts a keeper holding `fuse_fd` (the daemon keeps its own) and records it for `mountpoint`.
  absl::Status Keep(const std::filesystem::path& mountpoint, int fuse_fd);
  // The connection a live keeper holds for `mountpoint`, duplicated into this process (close-on-
  // exec). NotFound when there is no record or its keeper is gone; the keeper keeps holding it.
  absl::StatusOr<UniqueFd> Reclaim(const std::filesystem::path& mountpoint);
  // Drops the record of `mountpoint` (its connection is being ended; the keeper follows).
  void Forget(const std::filesystem::path& mountpoint);

  const std::filesystem::path& binary() const { return binary_; }

 private:
  std::filesystem::path RecordPath(const std::filesystem::path& mountpoint) const;
  std::filesystem::path dir_;
  std::filesystem::path binary_;
};

// The start time of process `pid` in clock ticks since boot (/proc/<pid>/stat field 22); 0 if it
// cannot be read.
uint64_t ProcessStartTime(pid_t pid);

}  // namespace tide::fuse

#endif  // TIDE_FUSE_FUSE_KEEPERS_H_
