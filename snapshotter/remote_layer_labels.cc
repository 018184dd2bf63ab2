#include "snapshotter/remote_layer_labels.h"

#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "format/annotations.h"
#include "format/estargz/estargz_footer.h"

namespace tide::snapshotter {
namespace {

// The labels are the converter's annotations as containerd passes them on. They stay char arrays
// here (map lookups take them as they are), so a change on either side must fail the build.
constexpr bool Same(const char* label, std::string_view annotation) { return annotation == label; }
static_assert(Same(kTideLabelPrefix, format::kAnnotationPrefix));
static_assert(Same(kTideRepositoryLabel, format::kAnnotationRepository));
static_assert(Same(kTideIndexDigestLabel, format::kAnnotationIndexDigest));
static_assert(Same(kTideLayerDigestLabel, format::kAnnotationLayerDigest));
static_assert(Same(kTideDiffIdLabel, format::kAnnotationDiffId));
static_assert(Same(kTideImageManifestLabel, format::kLabelImageManifest));
static_assert(Same(kTideSideIndexLabel, format::kLabelSideIndex));
static_assert(Same(kStargzTocDigestLabel, format::kEstargzTocDigestAnnotation));

std::string Get(const Labels& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

}  // namespace

bool HasTideLabels(const Labels& labels) {
  if (labels.count(kStargzTocDigestLabel) != 0) return true;
  auto it = labels.lower_bound(kTideLabelPrefix);
  return it != labels.end() && absl::StartsWith(it->first, kTideLabelPrefix);
}

bool HasImageLabels(const Labels& labels) {
  return labels.count(kCriImageRefLabel) != 0 && labels.count(kCriLayerDigestLabel) != 0 &&
         labels.count(kCriManifestDigestLabel) != 0;
}

absl::StatusOr<RemoteLayerLocation> LocateRemoteLayer(const Labels& labels) {
  if (!HasTideLabels(labels) && !HasImageLabels(labels))
    return absl::NotFoundError("layer has no containerd.io/snapshot/tide.*, stargz TOC or CRI image labels");
  RemoteLayerLocation location;
  location.reference = Get(labels, kCriImageRefLabel);
  location.layer_digest = Get(labels, kCriLayerDigestLabel);
  if (location.layer_digest.empty()) location.layer_digest = Get(labels, kTideLayerDigestLabel);
  location.index_digest = Get(labels, kTideIndexDigestLabel);
  if (location.index_digest.empty()) location.index_digest = Get(labels, kStargzTocDigestLabel);
  std::string layers = Get(labels, kCriImageLayersLabel);
  for (auto digest : absl::StrSplit(layers, ',', absl::SkipEmpty()))
    location.image_layers.emplace_back(digest);
  location.manifest_digest = Get(labels, kCriManifestDigestLabel);
  if (location.manifest_digest.empty()) location.manifest_digest = Get(labels, kTideImageManifestLabel);
  location.side_index_pin = Get(labels, kTideSideIndexLabel);
  if (location.reference.empty()) location.reference = Get(labels, kTideRepositoryLabel);
  if (location.reference.empty()) {
    return absl::NotFoundError(
        "tide layer without cri.image-ref or tide.repository label: cannot locate its blob");
  }
  if (location.layer_digest.empty() && location.index_digest.empty()) {
    return absl::NotFoundError("tide layer without cri.layer-digest or tide.index-digest label");
  }
  return location;
}

}  // namespace tide::snapshotter
