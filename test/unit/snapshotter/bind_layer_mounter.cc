#include "test/unit/snapshotter/bind_layer_mounter.h"

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
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

absl::StatusOr<snapshotter::MountedLayer> BindLayerMounter::Mount(
    const snapshotter::Labels& labels, const std::filesystem::path& target,
    const std::vector<std::filesystem::path>& lowers) {
  {
    std::lock_guard lock(mu_);
    lowers_given_.push_back(lowers);
  }
  auto dir = LayerDir(labels);
  if (!dir.ok()) return dir.status();
  std::ifstream diff_id_file(dir->string() + ".diff_id");
  std::string diff_id_text;
  if (!std::getline(diff_id_file, diff_id_text)) {
    return absl::NotFoundError(absl::StrCat("no diff_id recorded for ", dir->string()));
  }
  TIDE_ASSIGN_OR_RETURN(Digest diff_id, Digest::Parse(diff_id_text));
  if (mount(dir->c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
      mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
    return absl::InternalError(
        absl::StrCat("bind ", dir->string(), " on ", target.string(), ": ", std::strerror(errno)));
  }
  ++mounts;
  return snapshotter::MountedLayer{.diff_id = diff_id,
                                   .restore_labels = {{kBindRestoreLabel, dir->string()}}};
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
  auto dir = LayerDir(labels);
  if (!dir.ok()) return dir.status();
  auto kept = labels.find(kBindRestoreLabel);
  if (kept == labels.end() || kept->second != dir->string()) {
    return absl::FailedPreconditionError(
        absl::StrCat("stored labels lack ", kBindRestoreLabel, " = ", dir->string()));
  }
  return Mount(labels, target, {}).status();
}

void WriteBindLayerDiffId(const std::filesystem::path& layers_root, const std::string& index_hex,
                          const std::string& diff_id) {
  std::ofstream((layers_root / (index_hex + ".diff_id")).string()) << diff_id << "\n";
}

}  // namespace tide::testing
