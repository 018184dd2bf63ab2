#ifndef TIDE_PULL_SNAPSHOT_LABELS_H_
#define TIDE_PULL_SNAPSHOT_LABELS_H_

#include <string>
#include <vector>

#include "common/containerd_labels.h"
#include "containerd_client/containerd_client.h"
#include "oci/descriptor.h"
#include "oci/manifest.h"
#include "pull/pull_plan.h"

namespace tide::pull {

inline constexpr char kSnapshotLabelPrefix[] = "containerd.io/snapshot/";
inline constexpr char kUncompressedLabel[] = "containerd.io/uncompressed";
inline constexpr char kGcRefSnapshotPrefix[] = "containerd.io/gc.ref.snapshot.";
inline constexpr char kGcExpireLabel[] = "containerd.io/gc.expire";

// The labels containerd's unpacker sends on Prepare for layer i: the target chainID as
// containerd.io/snapshot.ref, the layer descriptor's tide index annotations, the layer's
// repository and digest from the pulled reference and manifest (never from the image's
// annotations) and, when cri is set, the four cri.* labels. A layer without a tide index gets the
// config's diff_id, and one without any index the image manifest (and `side_index_pin`, an artifact
// chosen with tidectl pull --index) to look a gzip side index up by.
containerd_client::Labels PrepareLabels(const PullPlan& plan, size_t layer, bool cri,
                                        const Digest& side_index_pin = Digest());

// cri.image-layers: this layer's digest and those above it, comma-separated, cut so that key and
// value stay within containerd's 4096-byte label limit.
std::string ImageLayersLabel(const std::vector<oci::Descriptor>& layers, size_t from);

// GC references containerd writes on pulled documents: a manifest keeps its config
// and layers, an index its manifests.
containerd_client::Labels ManifestGcLabels(const oci::Manifest& manifest);
containerd_client::Labels IndexGcLabels(const std::vector<oci::Descriptor>& manifests);
// containerd.io/distribution.source.<host>=<repository>, as containerd's fetcher writes it.
containerd_client::Labels DistributionSourceLabel(const registry::Reference& ref);

}  // namespace tide::pull

#endif  // TIDE_PULL_SNAPSHOT_LABELS_H_
