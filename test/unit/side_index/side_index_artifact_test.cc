#include "side_index/side_index_artifact.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "oci/media_types.h"

namespace tide::side_index {
namespace {

oci::Descriptor Subject(std::string_view content) {
  oci::Descriptor d;
  d.media_type = std::string(oci::kOciManifest);
  d.digest = Digest::Of(content);
  d.size = static_cast<int64_t>(content.size());
  return d;
}

LayerSideIndex Index(std::string_view layer, std::string_view frame) {
  LayerSideIndex i;
  i.layer = Digest::Of(layer);
  i.blob.digest = Digest::Of(frame);
  i.blob.size = static_cast<int64_t>(frame.size());
  return i;
}

TEST_CASE("a side index artifact lists each layer's index blob and refers to its image") {
  const oci::Descriptor subject = Subject("image manifest");
  const std::string json =
      ArtifactManifest(subject, {Index("layer a", "index a"), Index("layer b", "index b")});
  auto layers = ParseArtifactManifest(json, subject.digest);
  REQUIRE(layers.ok());
  REQUIRE(layers->size() == 2);
  CHECK(layers->at(Digest::Of("layer a").str()).digest == Digest::Of("index a"));
  CHECK(layers->at(Digest::Of("layer b").str()).media_type == kIndexBlobMediaType);
  CHECK(json.find(kArtifactType) != std::string::npos);
}

TEST_CASE("a side index artifact of another image, type or shape is refused") {
  const oci::Descriptor subject = Subject("image manifest");
  SECTION("another subject") {
    const std::string json = ArtifactManifest(Subject("other image"), {Index("layer a", "index a")});
    auto layers = ParseArtifactManifest(json, subject.digest);
    REQUIRE_FALSE(layers.ok());
    CHECK(layers.status().code() == absl::StatusCode::kFailedPrecondition);
  }
  SECTION("one layer twice") {
    const std::string json =
        ArtifactManifest(subject, {Index("layer a", "index a"), Index("layer a", "index b")});
    CHECK_FALSE(ParseArtifactManifest(json, subject.digest).ok());
  }
  SECTION("too many layers") {
    std::vector<LayerSideIndex> many;
    for (size_t i = 0; i <= kMaxIndexedLayers; ++i) many.push_back(Index(absl::StrCat("layer ", i), "index"));
    CHECK_FALSE(ParseArtifactManifest(ArtifactManifest(subject, many), subject.digest).ok());
  }
  SECTION("another artifact type, or not a manifest") {
    std::string json = ArtifactManifest(subject, {Index("layer a", "index a")});
    const size_t at = json.find(kArtifactType);
    json.replace(at, std::string_view(kArtifactType).size(), "application/vnd.example.other");
    CHECK_FALSE(ParseArtifactManifest(json, subject.digest).ok());
    CHECK_FALSE(ParseArtifactManifest("{\"manifests\":[]}", subject.digest).ok());
    CHECK_FALSE(ParseArtifactManifest("not json", subject.digest).ok());
  }
}

}  // namespace
}  // namespace tide::side_index
