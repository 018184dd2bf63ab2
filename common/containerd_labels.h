#ifndef TIDE_COMMON_CONTAINERD_LABELS_H_
#define TIDE_COMMON_CONTAINERD_LABELS_H_

// Snapshot label keys of containerd's remote-snapshot protocol: what an unpacker
// sends on Prepare and what tide-snapshotter reads. The converter's puller writes them and the
// snapshotter reads them, so both use these names.
namespace tide {

// The chainID the unpacker wants committed.
inline constexpr char kSnapshotRefLabel[] = "containerd.io/snapshot.ref";
// Sent by the CRI plugin (and `tidectl pull --cri`) with each layer's Prepare.
inline constexpr char kCriImageRefLabel[] = "containerd.io/snapshot/cri.image-ref";
inline constexpr char kCriManifestDigestLabel[] = "containerd.io/snapshot/cri.manifest-digest";
inline constexpr char kCriLayerDigestLabel[] = "containerd.io/snapshot/cri.layer-digest";
inline constexpr char kCriImageLayersLabel[] = "containerd.io/snapshot/cri.image-layers";

}  // namespace tide

#endif  // TIDE_COMMON_CONTAINERD_LABELS_H_
