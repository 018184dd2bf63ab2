#ifndef TIDE_SIDE_INDEX_SIDE_INDEX_ARTIFACT_H_
#define TIDE_SIDE_INDEX_SIDE_INDEX_ARTIFACT_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/digest.h"
#include "oci/descriptor.h"

namespace tide::side_index {

// The OCI artifact that carries an image's gzip side indexes (docs/format.md §12): an image manifest
// whose subject is the image manifest, with the empty config and one blob per indexed layer.
inline constexpr char kArtifactType[] = "application/vnd.tide.gzip-index.v1";
inline constexpr char kIndexBlobMediaType[] = "application/vnd.tide.gzip-index.layer.v1";
// On each index blob's descriptor: the layer blob it indexes.
inline constexpr char kIndexedLayerAnnotation[] = "dev.tide.gzip-index.layer";
// An artifact lists at most this many layers (images have tens).
inline constexpr size_t kMaxIndexedLayers = 1024;

// The index blob of one layer, as the artifact lists it.
struct LayerSideIndex {
  Digest layer;
  oci::Descriptor blob;
};

// The artifact manifest for the image manifest `subject`.
std::string ArtifactManifest(const oci::Descriptor& subject, const std::vector<LayerSideIndex>& indexes);
// The empty config every artifact manifest points at ("{}").
std::string_view EmptyConfig();

// The index blobs an artifact manifest lists, by layer digest. Refuses a manifest of another
// artifact type, whose subject is not `subject`, with more than kMaxIndexedLayers blobs, or naming
// one layer twice.
absl::StatusOr<absl::flat_hash_map<std::string, oci::Descriptor>> ParseArtifactManifest(
    std::string_view json, const Digest& subject);

}  // namespace tide::side_index

#endif  // TIDE_SIDE_INDEX_SIDE_INDEX_ARTIFACT_H_
