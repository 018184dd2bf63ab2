#ifndef TIDE_SNAPSHOTTER_REMOTE_LAYER_LABELS_H_
#define TIDE_SNAPSHOTTER_REMOTE_LAYER_LABELS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/containerd_labels.h"
#include "snapshotter/snapshot_info.h"

namespace tide::snapshotter {

// Labels of the remote-snapshot protocol beyond common/containerd_labels.h.
inline constexpr char kRemoteLabel[] = "containerd.io/snapshot/remote";
inline constexpr char kRemoteLabelValue[] = "remote snapshot";  // what stargz and its forks write
// Annotations the converter puts on tide layer descriptors; containerd copies them into labels.
inline constexpr char kTideLabelPrefix[] = "containerd.io/snapshot/tide.";
inline constexpr char kTideRepositoryLabel[] = "containerd.io/snapshot/tide.repository";
inline constexpr char kTideIndexDigestLabel[] = "containerd.io/snapshot/tide.index-digest";
// The layer blob's own digest. A descriptor annotation lives in the manifest, written after the
// blob, so a converter can set it; containerd never passes the descriptor digest itself.
inline constexpr char kTideLayerDigestLabel[] = "containerd.io/snapshot/tide.layer-digest";

// Where a layer lives, as far as the Prepare labels tell.
struct RemoteLayerLocation {
  // `host/path[:tag|@digest]` from cri.image-ref, else the converter's `host/path` repository.
  std::string reference;
  std::string layer_digest;  // cri.layer-digest, else tide.layer-digest; may be empty
  std::string index_digest;  // tide.index-digest, identifies the layer when layer_digest is empty
  std::vector<std::string> image_layers;  // cri.image-layers: this layer and the ones above it
};

// True when the layer descriptor carried tide's annotations.
bool HasTideLabels(const Labels& labels);

// NotFound when the labels do not locate a tide layer (then the layer falls back to a normal pull).
absl::StatusOr<RemoteLayerLocation> LocateRemoteLayer(const Labels& labels);

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_REMOTE_LAYER_LABELS_H_
