#include "snapshotter/remote_layer_mounter_factory.h"

#include "snapshotter/fuse_layer_mounter.h"

namespace tide::snapshotter {

absl::StatusOr<std::unique_ptr<RemoteLayerMounter>> MakeRemoteLayerMounter(const Config& config) {
  auto mounter = FuseLayerMounter::Create(config);
  if (!mounter.ok()) return mounter.status();
  return std::unique_ptr<RemoteLayerMounter>(std::move(*mounter));
}

}  // namespace tide::snapshotter
