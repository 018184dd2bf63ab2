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

// An eStargz layer's TOC digest (stargz-snapshotter's annotation, copied into the labels).
inline constexpr char kStargzTocDigestLabel[] = "containerd.io/snapshot/stargz/toc.digest";
// The diff_id the client computed the layer's chainID from (tidectl pull sets it from the image
// config). Needed for layers whose own index names none (eStargz): the content is checked against
// it only as far as the chainID is; see docs/security.md.
inline constexpr char kTideDiffIdLabel[] =
    "containerd.io/snapshot/tide.diff-id";  // format::kAnnotationDiffId
// tidectl pull's labels for a layer with no index of its own (format::kLabelImageManifest,
// kLabelSideIndex): the image manifest to find a gzip side index for, and a pinned artifact.
inline constexpr char kTideImageManifestLabel[] = "containerd.io/snapshot/tide.image-manifest";
inline constexpr char kTideSideIndexLabel[] = "containerd.io/snapshot/tide.side-index";

// Where a layer lives, as far as the Prepare labels tell.
struct RemoteLayerLocation {
  // `host/path[:tag|@digest]` from cri.image-ref, else the converter's `host/path` repository.
  std::string reference;
  std::string layer_digest;  // cri.layer-digest, else tide.layer-digest; may be empty
  std::string index_digest;  // tide.index-digest (or the eStargz TOC digest), identifies the layer
  std::vector<std::string> image_layers;  // cri.image-layers: this layer and the ones above it
  // The image manifest (cri.manifest-digest, else tide.image-manifest) and a pinned side index
  // artifact (tide.side-index): where a layer without its own index finds a gzip side index.
  std::string manifest_digest;
  std::string side_index_pin;
};

// True when the layer descriptor carried tide's annotations or an eStargz TOC digest.
bool HasTideLabels(const Labels& labels);
// True when the labels locate a layer of a known image manifest, as CRI's do: one that has no index
// of its own may still have a gzip side index.
bool HasImageLabels(const Labels& labels);

// NotFound when the labels do not locate a tide layer (then the layer falls back to a normal pull).
absl::StatusOr<RemoteLayerLocation> LocateRemoteLayer(const Labels& labels);

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_REMOTE_LAYER_LABELS_H_
