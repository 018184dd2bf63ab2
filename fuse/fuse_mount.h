#ifndef TIDE_FUSE_FUSE_MOUNT_H_
#define TIDE_FUSE_FUSE_MOUNT_H_

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "fuse/fuse_keepers.h"
#include "fuse/request_limits.h"

namespace tide::fuse {

struct FuseMountOptions {
  std::string fsname = "tide";          // shown in /proc/mounts
  int max_threads = kMaxWorkerThreads;  // worker threads of the session loop
  // The mount's bdi read_ahead_kb; nullopt keeps the kernel's default, 0 turns read-ahead off.
  std::optional<uint32_t> readahead_kb = 1024;
  bool allow_other = true;  // containers run as other users
  // Non-null: the connection is handed to a keeper process so it survives a restart of this daemon
  // (fuse_keepers.h). Must outlive the mount.
  FuseKeepers* keepers = nullptr;
};

// A mounted FUSE session served by a multi-threaded loop on its own thread. Destruction (or Stop)
// unmounts and ends the session even when readers are blocked in the filesystem: the kernel
// connection is aborted so they get an error instead of hanging.
class FuseMount {
 public:
  // `ops` and `userdata` must outlive the mount.
  static absl::StatusOr<std::unique_ptr<FuseMount>> Start(const std::filesystem::path& mountpoint,
                                                          const fuse_lowlevel_ops& ops, void* userdata,
                                                          const FuseMountOptions& options);
  // Serves a connection that is already mounted at `mountpoint`, on its /dev/fuse descriptor `fd`
  // (from a keeper, after a restart): the kernel negotiated INIT with the previous daemon, so the
  // session is given the INIT it would have seen, and the kernel is asked to resend the requests the
  // previous daemon had read but not answered (FUSE_NOTIFY_RESEND, Linux 6.9+). The inode numbers
  // must mean what they meant to the previous daemon (LayerFs: index entry + 1).
  static absl::StatusOr<std::unique_ptr<FuseMount>> Adopt(const std::filesystem::path& mountpoint,
                                                          UniqueFd fd, const fuse_lowlevel_ops& ops,
                                                          void* userdata, const FuseMountOptions& options);
  ~FuseMount();
  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;

  void Stop();
  // True once the loop ended (e.g. someone ran umount on the mountpoint).
  bool finished() const { return finished_; }
  const std::filesystem::path& mountpoint() const { return mountpoint_; }
  // Sets the mount's bdi read_ahead_kb. Files opened from then on get this window; open files keep
  // the one they were opened with. An adopted mount keeps the window it had until this is called.
  void SetReadaheadKb(uint32_t kb);
  // Drops the kernel's cached pages of an inode, so its next read comes to the filesystem again.
  void InvalidateData(fuse_ino_t ino);
  // The kernel connection number (/sys/fs/fuse/connections/N).
  unsigned connection() const { return connection_; }

 private:
  FuseMount() = default;
  static absl::StatusOr<std::unique_ptr<FuseMount>> NewSession(const std::filesystem::path& mountpoint,
                                                               const fuse_lowlevel_ops& ops, void* userdata,
                                                               const FuseMountOptions& options);
  void StartLoop(const FuseMountOptions& options);
  std::filesystem::path mountpoint_;
  FuseKeepers* keepers_ = nullptr;
  bool adopted_ = false;
  fuse_session* session_ = nullptr;
  unsigned connection_ = 0;
  std::string readahead_path_;  // the bdi's read_ahead_kb in sysfs; empty if unknown
  std::thread loop_;
  std::atomic<bool> finished_{false};
  bool stopped_ = false;
};

// Aborts a FUSE connection by number; used for stale mounts a previous process left behind too.
void AbortFuseConnection(unsigned connection);
// Lazily unmounts whatever is mounted at `path` (aborting it first if it is a FUSE mount); OK if
// nothing is mounted there.
absl::Status ForceUnmount(const std::filesystem::path& path);

}  // namespace tide::fuse

#endif  // TIDE_FUSE_FUSE_MOUNT_H_
