#ifndef TIDE_SNAPSHOTTER_DISK_USAGE_H_
#define TIDE_SNAPSHOTTER_DISK_USAGE_H_

#include <filesystem>

#include "absl/status/statusor.h"
#include "snapshotter/snapshot_info.h"

namespace tide::snapshotter {

// Allocated bytes (st_blocks * 512) and distinct inodes under root, root included, hard links counted
// once, without crossing into other filesystems: the same numbers as containerd's fs.DiskUsage.
absl::StatusOr<Usage> DiskUsage(const std::filesystem::path& root);

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_DISK_USAGE_H_
