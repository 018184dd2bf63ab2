// Links tide-snapshotter's main with the test BindLayerMounter: layers are served from plain
// directories under $TIDE_TEST_LAYERS_DIR instead of FUSE, so the remote-snapshot protocol can be
// tested against real containerd before (and independently of) the FUSE filesystem.
#include <cstdlib>

#include "snapshotter/remote_layer_mounter_factory.h"
#include "test/unit/snapshotter/bind_layer_mounter.h"

namespace tide::snapshotter {

absl::StatusOr<std::unique_ptr<RemoteLayerMounter>> MakeRemoteLayerMounter(const Config&, const RootLock&) {
  const char* dir = std::getenv("TIDE_TEST_LAYERS_DIR");
  if (dir == nullptr) return absl::InvalidArgumentError("TIDE_TEST_LAYERS_DIR is not set");
  return std::unique_ptr<RemoteLayerMounter>(new tide::testing::BindLayerMounter(dir));
}

}  // namespace tide::snapshotter
