#include "pull/snapshot_labels.h"

#include "absl/strings/str_cat.h"
#include "format/annotations.h"
#include "format/estargz/estargz_footer.h"
#include "format/zstd_chunked/containers_storage_toc.h"

namespace tide::pull {
namespace {

constexpr size_t kMaxLabelBytes = 4096;  // key + value, enforced by containerd

bool IsImageDescribedLabel(std::string_view key) {
  if (key == format::kEstargzTocDigestAnnotation) return true;
  return key.starts_with(format::kAnnotationPrefix) && key != format::kAnnotationRepository &&
         key != format::kAnnotationLayerDigest && key != format::kAnnotationDiffId &&
         key != format::kLabelImageManifest && key != format::kLabelSideIndex;
}

bool CopyContainersStorageToc(const oci::Descriptor& desc, containerd_client::Labels& labels) {
  auto checksum = desc.annotations.find(std::string(format::kContainersStorageTocChecksumAnnotation));
  auto position = desc.annotations.find(std::string(format::kContainersStorageTocPositionAnnotation));
  if (checksum == desc.annotations.end() || position == desc.annotations.end()) return false;
  labels[std::string(format::kContainersStorageTocChecksumLabel)] = checksum->second;
  labels[std::string(format::kContainersStorageTocPositionLabel)] = position->second;
  return true;
}

}  // namespace

std::string ImageLayersLabel(const std::vector<oci::Descriptor>& layers, size_t from) {
  const size_t budget = kMaxLabelBytes - (sizeof(kCriImageLayersLabel) - 1);
  std::string value;
  for (size_t i = from; i < layers.size(); ++i) {
    const std::string& digest = layers[i].digest.str();
    size_t grown = value.size() + (value.empty() ? 0 : 1) + digest.size();
    if (grown > budget) break;
    if (!value.empty()) value += ',';
    value += digest;
  }
  return value;
}

containerd_client::Labels PrepareLabels(const PullPlan& plan, size_t layer, bool cri,
                                        const Digest& side_index_pin) {
  const oci::Descriptor& desc = plan.parsed_manifest.layers[layer];
  containerd_client::Labels labels;
  // Only what describes the blob's own bytes comes from the image: the index annotations, which the
  // manifest digest covers and the index digest binds. Where to fetch from is never the image's to
  // say: an image could otherwise point the node at any registry or blob (cri.image-ref,
  // tide.repository), so those come from the reference the operator pulled and the manifest.
  for (const auto& [key, value] : desc.annotations) {
    if (IsImageDescribedLabel(key)) labels[key] = value;
  }
  // containers/storage's zstd:chunked annotations, under a key containerd passes to snapshotters.
  const bool containers_storage_toc = CopyContainersStorageToc(desc, labels);
  // Only a tide index names the diff_id; any other layer (eStargz, gzip with a side index) is bound to
  // the config's (docs/security.md).
  const bool own_index = desc.annotations.count(std::string(format::kAnnotationIndexDigest)) != 0;
  if (!own_index && layer < plan.diff_ids.size())
    labels[std::string(format::kAnnotationDiffId)] = plan.diff_ids[layer].str();
  // A layer without an index of its own may have a gzip side index in the image's referrers.
  if (!own_index && !containers_storage_toc &&
      desc.annotations.count(std::string(format::kEstargzTocDigestAnnotation)) == 0) {
    labels[std::string(format::kLabelImageManifest)] = plan.manifest.descriptor.digest.str();
    if (!side_index_pin.empty()) labels[std::string(format::kLabelSideIndex)] = side_index_pin.str();
  }
  labels[std::string(format::kAnnotationRepository)] = plan.ref.String();
  labels[std::string(format::kAnnotationLayerDigest)] = desc.digest.str();
  if (cri) {
    labels[kCriImageRefLabel] = plan.ref.String();
    labels[kCriManifestDigestLabel] = plan.manifest.descriptor.digest.str();
    labels[kCriLayerDigestLabel] = desc.digest.str();
    labels[kCriImageLayersLabel] = ImageLayersLabel(plan.parsed_manifest.layers, layer);
  }
  labels[kSnapshotRefLabel] = plan.chain_ids[layer].str();
  return labels;
}

containerd_client::Labels ManifestGcLabels(const oci::Manifest& manifest) {
  containerd_client::Labels labels;
  labels["containerd.io/gc.ref.content.config"] = manifest.config.digest.str();
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    labels[absl::StrCat("containerd.io/gc.ref.content.l.", i)] = manifest.layers[i].digest.str();
  }
  return labels;
}

containerd_client::Labels IndexGcLabels(const std::vector<oci::Descriptor>& manifests) {
  containerd_client::Labels labels;
  for (size_t i = 0; i < manifests.size(); ++i) {
    labels[absl::StrCat("containerd.io/gc.ref.content.m.", i)] = manifests[i].digest.str();
  }
  return labels;
}

containerd_client::Labels DistributionSourceLabel(const registry::Reference& ref) {
  return {{absl::StrCat("containerd.io/distribution.source.", ref.registry()), ref.repository()}};
}

}  // namespace tide::pull
