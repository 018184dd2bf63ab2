#include "oci/index.h"

#include <catch2/catch.hpp>

#include "oci/media_types.h"

using tide::oci::Index;

TEST_CASE("Index parses a Docker manifest list with platforms", "[oci][index]") {
  auto idx = Index::Parse(R"({
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
    "manifests": [
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 528,
       "digest": "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
       "platform": {"architecture": "amd64", "os": "linux"}},
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 528,
       "digest": "sha256:e4c58958181a5925816faa528ce959e487632f4cfd192f8132f71b32df2744b4",
       "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}}
    ]})");
  REQUIRE(idx.ok());
  REQUIRE(idx->manifests.size() == 2);
  REQUIRE(idx->manifests[1].platform.has_value());
  CHECK(idx->manifests[1].platform->ToString() == "linux/arm64/v8");
  auto again = Index::Parse(idx->Serialize());
  REQUIRE(again.ok());
  CHECK(again->manifests == idx->manifests);
  CHECK(again->media_type == tide::oci::kDockerManifestList);
}

TEST_CASE("Index rejects manifests and malformed entries", "[oci][index]") {
  auto m = Index::Parse(R"({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                            "manifests": []})");
  REQUIRE_FALSE(m.ok());
  CHECK(std::string(m.status().message()).find("image manifest") != std::string::npos);
  CHECK_FALSE(Index::Parse(R"({"schemaVersion": 2, "manifests": {}})").ok());
  CHECK_FALSE(Index::Parse(R"({"schemaVersion": 2, "manifests": [{"mediaType": 3}]})").ok());
  CHECK_FALSE(Index::Parse(R"({"schemaVersion": 2})").ok());
}
