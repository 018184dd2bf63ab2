#ifndef TIDE_SNAPSHOTTER_REMOTE_LAYER_MOUNTER_FACTORY_H_
#define TIDE_SNAPSHOTTER_REMOTE_LAYER_MOUNTER_FACTORY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "snapshotter/config.h"
#include "snapshotter/remote_layer_mounter.h"
#include "snapshotter/root_lock.h"

namespace tide::snapshotter {

// The mounter the daemon uses; null means no lazy layers: every layer is an ordinary snapshot.
// Defined at link time: fuse_remote_layer_mounter.cc in tide-snapshotter, a bind-mount mounter in the
// e2e tests' daemon (test/e2e/snapshotter/bind_mounter_factory.cc). Its state (chunk cache, profiles)
// lives under the root, so the root's lock must be held first.
absl::StatusOr<std::unique_ptr<RemoteLayerMounter>> MakeRemoteLayerMounter(const Config& config,
                                                                           const RootLock& root);

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_REMOTE_LAYER_MOUNTER_FACTORY_H_
