#include "side_index/side_index_artifact.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "oci/manifest.h"
#include "oci/media_types.h"

namespace tide::side_index {
namespace {

constexpr char kEmptyConfigMediaType[] = "application/vnd.oci.empty.v1+json";

}  // namespace

std::string_view EmptyConfig() { return "{}"; }

std::string ArtifactManifest(const oci::Descriptor& subject, const std::vector<LayerSideIndex>& indexes) {
  oci::Manifest m;
  m.media_type = std::string(oci::kOciManifest);
  m.artifact_type = kArtifactType;
  m.config.media_type = kEmptyConfigMediaType;
  m.config.digest = Digest::Of(EmptyConfig());
  m.config.size = static_cast<int64_t>(EmptyConfig().size());
  for (const LayerSideIndex& index : indexes) {
    oci::Descriptor blob = index.blob;
    blob.media_type = kIndexBlobMediaType;
    blob.annotations[kIndexedLayerAnnotation] = index.layer.str();
    m.layers.push_back(std::move(blob));
  }
  oci::Descriptor s;
  s.media_type = subject.media_type;
  s.digest = subject.digest;
  s.size = subject.size;
  m.subject = s;
  return m.Serialize();
}

absl::StatusOr<absl::flat_hash_map<std::string, oci::Descriptor>> ParseArtifactManifest(
    std::string_view json, const Digest& subject) {
  TIDE_ASSIGN_OR_RETURN(oci::Manifest m, oci::Manifest::Parse(json, "gzip side index artifact"));
  if (m.artifact_type != kArtifactType) {
    return absl::InvalidArgumentError(
        absl::StrCat("artifact type \"", m.artifact_type, "\" is not ", kArtifactType));
  }
  if (!m.subject || m.subject->digest != subject) {
    return absl::FailedPreconditionError(
        absl::StrCat("side index artifact does not refer to ", subject.str()));
  }
  if (m.layers.size() > kMaxIndexedLayers) {
    return absl::InvalidArgumentError(
        absl::StrCat("side index artifact lists ", m.layers.size(), " blobs, more than ", kMaxIndexedLayers));
  }
  absl::flat_hash_map<std::string, oci::Descriptor> out;
  for (const oci::Descriptor& d : m.layers) {
    if (d.media_type != kIndexBlobMediaType) continue;
    auto layer = d.annotations.find(kIndexedLayerAnnotation);
    if (layer == d.annotations.end()) continue;
    TIDE_ASSIGN_OR_RETURN(Digest digest, Digest::Parse(layer->second));
    if (!out.emplace(digest.str(), d).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("side index artifact names layer ", digest.str(), " twice"));
    }
  }
  return out;
}

}  // namespace tide::side_index
