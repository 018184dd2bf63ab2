#ifndef TIDE_SNAPSHOTTER_FUSE_LAYER_MOUNTER_H_
#define TIDE_SNAPSHOTTER_FUSE_LAYER_MOUNTER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "fuse/layer_mount_manager.h"
#include "snapshotter/config.h"
#include "snapshotter/profile_keeper.h"
#include "snapshotter/remote_layer_mounter.h"

namespace tide::snapshotter {

// RemoteLayerMounter over fuse::LayerMountManager: each tide layer becomes an in-process FUSE mount
// reading chunks from the registry through the node's shared cache. Layers without a startup set
// are prefetched from the profile learned on an earlier run on this node (<root>/profiles), and
// the first run of a layer records one.
class FuseLayerMounter : public RemoteLayerMounter {
 public:
  static absl::StatusOr<std::unique_ptr<FuseLayerMounter>> Create(const Config& config);

  absl::StatusOr<bool> IsRemoteLayer(const Labels& labels) override;
  absl::Status Mount(const Labels& labels, const std::filesystem::path& target) override;
  absl::Status Unmount(const std::filesystem::path& target) override;
  absl::Status Restore(const Labels& labels, const std::filesystem::path& target) override;

  fuse::LayerMountManager& manager() { return *manager_; }
  ProfileKeeper& profiles() { return *keeper_; }

 private:
  FuseLayerMounter(std::unique_ptr<fuse::LayerMountManager> manager, fuse::LayerMountOptions defaults,
                   const std::filesystem::path& profile_dir)
      : manager_(std::move(manager)),
        defaults_(std::move(defaults)),
        keeper_(std::make_unique<ProfileKeeper>(*manager_, profile_dir)) {}
  std::unique_ptr<fuse::LayerMountManager> manager_;
  fuse::LayerMountOptions defaults_;
  std::unique_ptr<ProfileKeeper> keeper_;  // declared after manager_: goes first
};

// The layer a Prepare's labels point at: reference, blob digest and index location. NotFound
// when the labels do not locate a tide layer.
absl::StatusOr<fuse::RemoteLayer> RemoteLayerFromLabels(const Labels& labels);

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_FUSE_LAYER_MOUNTER_H_
