#include "oci/manifest.h"

#include <catch2/catch.hpp>
#include <string>

#include "oci/media_types.h"

using tide::oci::Manifest;

namespace {

const char* kDockerManifestJson = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
  "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1469,
             "digest": "sha256:e4c58958181a5925816faa528ce959e487632f4cfd192f8132f71b32df2744b4"},
  "layers": [
    {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 2818413,
     "digest": "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}
  ]
})";

std::string Message(const absl::Status& s) { return std::string(s.message()); }

}  // namespace

TEST_CASE("Manifest parses a Docker schema 2 manifest", "[oci][manifest]") {
  auto m = Manifest::Parse(kDockerManifestJson);
  REQUIRE(m.ok());
  CHECK(m->media_type == tide::oci::kDockerManifest);
  CHECK(m->config.size == 1469);
  REQUIRE(m->layers.size() == 1);
  CHECK(m->layers[0].media_type == tide::oci::kDockerLayerGzip);
  CHECK(m->layers[0].digest.str() ==
        "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
}

TEST_CASE("Manifest round trip keeps annotations, subject and platform-less descriptors", "[oci][manifest]") {
  auto m = Manifest::Parse(kDockerManifestJson);
  REQUIRE(m.ok());
  m->media_type = std::string(tide::oci::kOciManifest);
  m->annotations["org.example"] = "yes";
  m->layers[0].annotations["containerd.io/snapshot/tide.index"] = "x";
  m->subject = m->config;
  auto again = Manifest::Parse(m->Serialize());
  REQUIRE(again.ok());
  CHECK(again->annotations == m->annotations);
  CHECK(again->layers == m->layers);
  REQUIRE(again->subject.has_value());
  CHECK(*again->subject == m->config);
  CHECK(again->config == m->config);
}

TEST_CASE("Manifest rejects malformed documents with a clear reason", "[oci][manifest]") {
  auto not_json = Manifest::Parse("{\"schemaVersion\": 2,", "manifest X");
  REQUIRE_FALSE(not_json.ok());
  CHECK(Message(not_json.status()).find("manifest X: malformed JSON") != std::string::npos);

  auto wrong_version = Manifest::Parse(R"({"schemaVersion": 1, "config": {}, "layers": []})");
  REQUIRE_FALSE(wrong_version.ok());
  CHECK(Message(wrong_version.status()).find("schemaVersion 1") != std::string::npos);

  auto no_layers = Manifest::Parse(R"({"schemaVersion": 2, "config": {"mediaType": "a", "size": 1,
      "digest": "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}})");
  REQUIRE_FALSE(no_layers.ok());
  CHECK(Message(no_layers.status()).find("layers") != std::string::npos);

  std::string bad_digest = kDockerManifestJson;
  bad_digest.replace(bad_digest.find("sha256:2cf2"), 11, "md5:2cf2");
  auto bd = Manifest::Parse(bad_digest);
  REQUIRE_FALSE(bd.ok());
  CHECK(Message(bd.status()).find("layer 0") != std::string::npos);

  std::string neg = kDockerManifestJson;
  neg.replace(neg.find("2818413"), 7, "-5");
  CHECK_FALSE(Manifest::Parse(neg).ok());

  auto index = Manifest::Parse(
      R"({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []})");
  REQUIRE_FALSE(index.ok());
  CHECK(Message(index.status()).find("it is an index") != std::string::npos);
  CHECK_FALSE(Manifest::Parse("[]").ok());
}
