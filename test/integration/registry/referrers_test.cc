// OCI 1.1 referrers against docker-registry 2.8, which has no referrers API: the referrers tag.
#include <catch2/catch.hpp>

#include "oci/media_types.h"
#include "registry/registry_client.h"
#include "test/integration/registry/registry_fixture.h"
#include "test/integration/registry/test_image.h"

namespace tide::registry::testing {
namespace {

// A minimal artifact manifest referring to `subject`.
std::pair<oci::Descriptor, std::string> Artifact(const PushedImage& subject, const std::string& note) {
  const std::string json = absl::StrCat(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)",
      R"("artifactType":"application/vnd.example.note",)",
      R"("config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":")", Digest::Of("{}").str(),
      R"(","size":2},"layers":[],"annotations":{"note":")", note, R"("},)",
      R"("subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")",
      subject.manifest_digest.str(), R"(","size":)", subject.manifest.size(), "}}");
  oci::Descriptor d;
  d.media_type = std::string(oci::kOciManifest);
  d.artifact_type = "application/vnd.example.note";
  d.digest = Digest::Of(json);
  d.size = static_cast<int64_t>(json.size());
  return {d, json};
}

TEST_CASE("referrers: without the API, PushReferrer keeps the referrers tag and ListReferrers reads it",
          "[registry][referrers]") {
  RegistryFixture f;
  const Reference ref = f.Ref("app:v1");
  PushedImage image = PushRandomImage(*f.client, ref, {1000}, 7);
  REQUIRE(f.client->PushBlob(ref, Digest::Of("{}"), "{}").ok());

  auto none = f.client->ListReferrers(ref, image.manifest_digest);
  REQUIRE(none.ok());
  CHECK(none->from_fallback_tag);
  CHECK(none->manifests.empty());

  auto [first, first_json] = Artifact(image, "one");
  auto [second, second_json] = Artifact(image, "two");
  REQUIRE(f.client->PushReferrer(ref, image.manifest_digest, first, first_json).ok());
  REQUIRE(f.client->PushReferrer(ref, image.manifest_digest, first, first_json).ok());  // idempotent
  REQUIRE(f.client->PushReferrer(ref, image.manifest_digest, second, second_json).ok());
  auto listed = f.client->ListReferrers(ref, image.manifest_digest);
  REQUIRE(listed.ok());
  CHECK(listed->from_fallback_tag);
  REQUIRE(listed->manifests.size() == 2);
  CHECK(listed->manifests[0].digest == first.digest);
  CHECK(listed->manifests[1].digest == second.digest);
  CHECK(listed->manifests[0].artifact_type == "application/vnd.example.note");
  // The image's own tag did not move to an artifact.
  auto tagged = f.client->Resolve(ref);
  REQUIRE(tagged.ok());
  CHECK(tagged->digest == image.manifest_digest);
  CHECK(ReferrersTag(image.manifest_digest) == "sha256-" + std::string(image.manifest_digest.hex()));
}

}  // namespace
}  // namespace tide::registry::testing
