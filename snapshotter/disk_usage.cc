#include "snapshotter/disk_usage.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tide::snapshotter {
namespace {

// nftw has no user-data argument, so the walk state lives in a thread-local for its duration.
struct Walk {
  std::set<std::pair<dev_t, ino_t>> inodes;
  int64_t size = 0;
};
thread_local Walk* current_walk = nullptr;

int Visit(const char*, const struct stat* st, int type, struct FTW*) {
  if (type == FTW_NS) return 0;  // vanished while walking: an active snapshot may be in use
  if (current_walk->inodes.emplace(st->st_dev, st->st_ino).second) current_walk->size += st->st_blocks * 512;
  return 0;
}

}  // namespace

absl::StatusOr<Usage> DiskUsage(const std::filesystem::path& root) {
  Walk walk;
  current_walk = &walk;
  int rc = nftw(root.c_str(), Visit, 64, FTW_PHYS | FTW_MOUNT);
  int err = errno;
  current_walk = nullptr;
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("disk usage of ", root.string(), ": ", std::strerror(err)));
  }
  return Usage{walk.size, static_cast<int64_t>(walk.inodes.size())};
}

}  // namespace tide::snapshotter
