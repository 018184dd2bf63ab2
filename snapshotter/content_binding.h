#ifndef TIDE_SNAPSHOTTER_CONTENT_BINDING_H_
#define TIDE_SNAPSHOTTER_CONTENT_BINDING_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/digest.h"
#include "snapshotter/snapshot_info.h"

namespace tide::snapshotter {

// What ties a remote snapshot to the name containerd finds it by (docs/security.md). containerd
// reuses a committed layer by chainID for every later image with that chainID, so a remote snapshot
// may only stand for a chainID its content is bound to:
//   chainID == ChainIdOf(parent's chainID, diff_id the mounted index commits to).

// The chainID a committed snapshot stands for: its `containerd.io/snapshot.ref` label (containerd's
// commits carry it, and tide's remote commits keep it), else a backend name ending in
// `/sha256:<hex>` (containerd's `<ns>/<seq>/<chainID>`). NotFound when neither tells.
absl::StatusOr<std::string> ChainIdOfSnapshot(const SnapshotInfo& info);

// OK when a layer whose content hashes to `diff_id`, on a parent standing for `parent_chain_id`
// (empty: no parent), may be committed as chainID `ref`; otherwise a PermissionDenied naming both.
absl::Status CheckChainBinding(std::string_view ref, std::string_view parent_chain_id, const Digest& diff_id);

// Whether two Prepare label sets name the same layer blob and index, so that a remote snapshot made
// for one may serve the other. Layers that cannot be identified are never the same.
bool SameRemoteLayer(const Labels& a, const Labels& b);

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_CONTENT_BINDING_H_
