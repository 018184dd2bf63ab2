#include "test/unit/snapshotter/bind_layer_mounter.h"

#include <sys/mount.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "snapshotter/remote_layer_labels.h"

namespace tide::testing {

absl::StatusOr<std::filesystem::path> BindLayerMounter::LayerDir(const snapshotter::Labels& labels) const {
  auto it = labels.find(snapshotter::kTideIndexDigestLabel);
  if (it == labels.end() || !absl::StartsWith(it->second, "sha256:")) {
    return absl::NotFoundError("no tide.index-digest label");
  }
  return layers_root_ / it->second.substr(7);
}

absl::StatusOr<bool> BindLayerMounter::IsRemoteLayer(const snapshotter::Labels& labels) {
  auto dir = LayerDir(labels);
  return dir.ok() && std::filesystem::is_directory(*dir);
}

absl::Status BindLayerMounter::Mount(const snapshotter::Labels& labels, const std::filesystem::path& target) {
  auto dir = LayerDir(labels);
  if (!dir.ok()) return dir.status();
  if (mount(dir->c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
      mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
    return absl::InternalError(
        absl::StrCat("bind ", dir->string(), " on ", target.string(), ": ", std::strerror(errno)));
  }
  ++mounts;
  return absl::OkStatus();
}

absl::Status BindLayerMounter::Unmount(const std::filesystem::path& target) {
  if (umount2(target.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return absl::InternalError(absl::StrCat("unmount ", target.string(), ": ", std::strerror(errno)));
  }
  ++unmounts;
  return absl::OkStatus();
}

absl::Status BindLayerMounter::Restore(const snapshotter::Labels& labels,
                                       const std::filesystem::path& target) {
  ++restores;
  // Whatever the previous process left there goes first, so the directory is mounted exactly once.
  while (umount2(target.c_str(), MNT_DETACH) == 0) {
  }
  return Mount(labels, target);
}

}  // namespace tide::testing
