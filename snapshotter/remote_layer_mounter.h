#ifndef TIDE_SNAPSHOTTER_REMOTE_LAYER_MOUNTER_H_
#define TIDE_SNAPSHOTTER_REMOTE_LAYER_MOUNTER_H_

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/digest.h"
#include "metrics/text_writer.h"
#include "snapshotter/snapshot_info.h"

namespace tide::warm {
class NodeCache;
}

namespace tide::snapshotter {

// What Mount bound a layer to, and what Restore needs to mount it again without the registry.
struct MountedLayer {
  Digest diff_id;
  // tide.restore.* labels (snapshotter/restore_labels.h) and a diff_id label, kept with the
  // committed snapshot and handed back to Restore.
  Labels restore_labels = {};
};

// Serves a layer straight from the registry at a directory (the FUSE side implements it). The
// snapshotter calls it from its gRPC threads, concurrently for different targets (never for the
// same target at once), and keeps all the state needed to call Restore after a restart in its own
// store: the labels are the only input. Mount runs without the snapshotter's lock, so it may take
// the time an index fetch needs; IsRemoteLayer should be cheap (labels only, no network).
//
// The labels are those of containerd's Prepare: `containerd.io/snapshot.ref`, the
// `containerd.io/snapshot/cri.*` labels when the client sent them, and every
// `containerd.io/snapshot/tide.*` annotation of the layer descriptor (for Restore, plus what Mount
// returned as restore labels). RemoteLayerLocation (remote_layer_labels.h) extracts where the blob
// lives.
class RemoteLayerMounter {
 public:
  virtual ~RemoteLayerMounter() = default;

  // Whether the layer is a tide layer this mounter can serve lazily. Errors are treated like
  // false (the layer falls back to an ordinary snapshot) and logged.
  virtual absl::StatusOr<bool> IsRemoteLayer(const Labels& labels) = 0;
  // Mounts the layer's filesystem on the existing empty directory `target` and returns the diff_id
  // its content is bound to (for a tide layer: the tar sha256 of the manifest-covered index). The
  // snapshotter checks it against the chainID the layer is committed under (docs/security.md), and
  // stores the restore labels with the snapshot. `lowers`: the targets of the remote layers under
  // this one in its snapshot chain, top first (mounted already: containerd prepares a chain bottom
  // up). A hint for guessing reads that cross layers; the layer's content never depends on it.
  virtual absl::StatusOr<MountedLayer> Mount(const Labels& labels, const std::filesystem::path& target,
                                             const std::vector<std::filesystem::path>& lowers) = 0;
  // Unmounts what Mount or Restore put on `target`; OK when nothing is mounted there.
  virtual absl::Status Unmount(const std::filesystem::path& target) = 0;
  // After a restart: `target` may still hold a dead mount of the previous process; replace it with
  // a working one for the same layer (from the local cache where possible). `labels` are the stored
  // ones: Prepare's plus Mount's restore labels.
  virtual absl::Status Restore(const Labels& labels, const std::filesystem::path& target) = 0;
  // The layer on `target` failed verification of its whole content (its reads now fail): it must not
  // be reused for another pull.
  virtual bool Poisoned(const std::filesystem::path& target) = 0;
  // The overlay lower directories, top first, that stand for the layer Mount or Restore put on
  // `target`: the target itself, and any directories the mounter keeps beside it (in its parent)
  // that complete the layer for overlayfs.
  virtual std::vector<std::filesystem::path> LowerDirs(const std::filesystem::path& target) {
    return {target};
  }
  // Writes the mounter's metrics (docs/metrics.md); none by default.
  virtual void WriteMetrics(metrics::TextWriter& out) { (void)out; }
  // The mounted layers for `tidectl status` ({"images": [...]}, layer/layer_status.h); none by default.
  virtual nlohmann::json Status() { return {{"images", nlohmann::json::array()}}; }
  // The node cache behind the Cache API (`tidectl warm`, `tidectl cache ls`); null: none.
  virtual warm::NodeCache* node_cache() { return nullptr; }
};

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_REMOTE_LAYER_MOUNTER_H_
