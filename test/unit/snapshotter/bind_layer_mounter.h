#ifndef TIDE_TEST_UNIT_SNAPSHOTTER_BIND_LAYER_MOUNTER_H_
#define TIDE_TEST_UNIT_SNAPSHOTTER_BIND_LAYER_MOUNTER_H_

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "snapshotter/remote_layer_mounter.h"

namespace tide::testing {

// A RemoteLayerMounter for exercising the remote-snapshot protocol without FUSE: a layer whose
// `containerd.io/snapshot/tide.index-digest` label is sha256:<hex> is served by read-only
// bind-mounting <layers_root>/<hex>. Layers without such a directory are not remote. The diff_id the
// layer is bound to, which a tide index would carry, is read from <layers_root>/<hex>.diff_id
// (WriteBindLayerDiffId); without it the mount fails. Mount returns the directory as a restore label
// (kBindRestoreLabel) and Restore refuses labels without it, so a restart proves the snapshotter kept
// what Mount returned. Real mounts, real unmounts; only the FUSE filesystem is replaced by a plain
// directory.
inline constexpr char kBindRestoreLabel[] = "containerd.io/snapshot/tide.restore.bind-dir";

class BindLayerMounter : public snapshotter::RemoteLayerMounter {
 public:
  explicit BindLayerMounter(std::filesystem::path layers_root) : layers_root_(std::move(layers_root)) {}

  absl::StatusOr<bool> IsRemoteLayer(const snapshotter::Labels& labels) override;
  absl::StatusOr<snapshotter::MountedLayer> Mount(const snapshotter::Labels& labels,
                                                  const std::filesystem::path& target,
                                                  const std::vector<std::filesystem::path>& lowers) override;
  absl::Status Unmount(const std::filesystem::path& target) override;
  absl::Status Restore(const snapshotter::Labels& labels, const std::filesystem::path& target) override;
  bool Poisoned(const std::filesystem::path&) override { return false; }

  std::atomic<int> mounts{0};
  std::atomic<int> unmounts{0};
  std::atomic<int> restores{0};
  // The lowers each Mount call was given, in call order.
  std::vector<std::vector<std::filesystem::path>> lowers_given() {
    std::lock_guard lock(mu_);
    return lowers_given_;
  }

 private:
  std::mutex mu_;
  std::vector<std::vector<std::filesystem::path>> lowers_given_;
  absl::StatusOr<std::filesystem::path> LayerDir(const snapshotter::Labels& labels) const;
  std::filesystem::path layers_root_;
};

// Records the diff_id of the layer directory <layers_root>/<index_hex> for BindLayerMounter.
void WriteBindLayerDiffId(const std::filesystem::path& layers_root, const std::string& index_hex,
                          const std::string& diff_id);

}  // namespace tide::testing

#endif  // TIDE_TEST_UNIT_SNAPSHOTTER_BIND_LAYER_MOUNTER_H_
