#include "snapshotter/remote_layer_mounter_factory.h"

namespace tide::snapshotter {

absl::StatusOr<std::unique_ptr<RemoteLayerMounter>> MakeRemoteLayerMounter(const Config&, const RootLock&) {
  log::Warn("built without a remote layer mounter: every layer is pulled and unpacked by containerd");
  return std::unique_ptr<RemoteLayerMounter>();
}

}  // namespace tide::snapshotter
