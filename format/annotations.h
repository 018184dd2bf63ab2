#ifndef TIDE_FORMAT_ANNOTATIONS_H_
#define TIDE_FORMAT_ANNOTATIONS_H_

#include <string_view>

namespace tide::format {

// Layer descriptor annotations. containerd's unpacker copies layer annotations starting with
// "containerd.io/snapshot/" into the labels it sends the snapshotter, so these reach tide.
inline constexpr std::string_view kAnnotationPrefix = "containerd.io/snapshot/tide.";
inline constexpr std::string_view kAnnotationVersion = "containerd.io/snapshot/tide.version";
inline constexpr std::string_view kAnnotationIndexDigest = "containerd.io/snapshot/tide.index-digest";
inline constexpr std::string_view kAnnotationIndexOffset = "containerd.io/snapshot/tide.index-offset";
inline constexpr std::string_view kAnnotationIndexSize = "containerd.io/snapshot/tide.index-size";
// Compressed offset where the startup region ends (0 when there is no startup set).
// The layer blob's own digest, so a snapshotter that gets no CRI labels (nerdctl, containerd's
// client unpacker) can still fetch the blob from the repository annotation alone.
inline constexpr std::string_view kAnnotationLayerDigest = "containerd.io/snapshot/tide.layer-digest";
inline constexpr std::string_view kAnnotationStartupEnd = "containerd.io/snapshot/tide.startup-end";

// Set by the converter when it pushes: the repository ("host/name") the layer blob was pushed to, so
// a snapshotter that receives no image reference from its client can still fetch the blob.
inline constexpr std::string_view kAnnotationRepository = "containerd.io/snapshot/tide.repository";

// Set by `tidectl pull`, never taken from the image: the config's diff_id for a layer whose own
// table of contents names none (eStargz), which the snapshotter binds the layer's chainID to.
inline constexpr std::string_view kAnnotationDiffId = "containerd.io/snapshot/tide.diff-id";
// Labels (never image annotations) tidectl pull sets on layers without an index of their own: the
// image manifest whose gzip side index artifact to look up, and an artifact pinned with --index.
inline constexpr std::string_view kLabelImageManifest = "containerd.io/snapshot/tide.image-manifest";
inline constexpr std::string_view kLabelSideIndex = "containerd.io/snapshot/tide.side-index";
// The only format version so far.
inline constexpr std::string_view kFormatVersion = "1";

}  // namespace tide::format

#endif  // TIDE_FORMAT_ANNOTATIONS_H_
