#ifndef TIDE_SNAPSHOTTER_MOUNT_SPEC_H_
#define TIDE_SNAPSHOTTER_MOUNT_SPEC_H_

#include <filesystem>
#include <string>
#include <vector>

#include "snapshotter/snapshot_info.h"

namespace tide::snapshotter {

// What containerd mounts (containerd.types.Mount without the target, which the proxy client drops).
struct MountSpec {
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

// The mounts containerd's overlay snapshotter returns for a snapshot of `kind` whose own directories
// are fs/work and whose parents' layer directories are `lowers`, immediate parent first:
// no parent: rw/ro bind of fs; a view on one parent: ro bind of it; otherwise overlay.
std::vector<MountSpec> OverlayMounts(Kind kind, const std::filesystem::path& fs,
                                     const std::filesystem::path& work,
                                     const std::vector<std::filesystem::path>& lowers);

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_MOUNT_SPEC_H_
