// Push and pull against a real docker-registry over plain http.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <random>

#include "oci/manifest.h"
#include "oci/media_types.h"
#include "oci/oci_layout.h"
#include "registry/blob_range_reader.h"
#include "registry/registry_client.h"
#include "test/integration/registry/registry_fixture.h"
#include "test/integration/registry/test_image.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace tide::registry {
namespace {

using namespace tide::registry::testing;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

TEST_CASE_METHOD(RegistryFixture,
                 "Plain http: push an image, resolve it, fetch manifests, blobs and ranges") {
  RegistryClient& c = *client;
  Reference ref = Ref("tide/app:v1");
  PushedImage image = PushRandomImage(c, ref, {(1 << 20) + 123, 3000, 5 << 20}, 1);

  auto desc = c.Resolve(ref);
  REQUIRE(desc.ok());
  CHECK(desc->media_type == oci::kOciManifest);
  CHECK(desc->digest == image.manifest_digest);
  CHECK(desc->size == static_cast<int64_t>(image.manifest.size()));

  auto by_tag = c.FetchManifest(ref);
  REQUIRE(by_tag.ok());
  CHECK(by_tag->bytes == image.manifest);
  CHECK(by_tag->media_type == oci::kOciManifest);
  auto by_digest = c.FetchManifest(ref, image.manifest_digest);
  REQUIRE(by_digest.ok());
  CHECK(by_digest->digest == image.manifest_digest);

  for (const TestBlob& layer : image.layers) {
    auto bytes = c.FetchBlobBytes(ref, layer.digest, static_cast<int64_t>(layer.bytes.size()));
    REQUIRE(bytes.ok());
    CHECK(*bytes == layer.bytes);
  }

  const TestBlob& big = image.layers[2];
  auto range = c.ReadBlobRange(ref, big.digest, 1000, 5000);
  REQUIRE(range.ok());
  CHECK(*range == big.bytes.substr(1000, 5000));

  std::mt19937 rng(7);
  std::vector<ByteRange> ranges;
  for (int i = 0; i < 40; ++i) {
    uint64_t off = std::uniform_int_distribution<uint64_t>(0, big.bytes.size() - 1)(rng);
    uint64_t len =
        std::uniform_int_distribution<uint64_t>(1, std::min<uint64_t>(200000, big.bytes.size() - off))(rng);
    ranges.push_back({off, len});
  }
  auto many = c.ReadBlobRanges(ref, big.digest, ranges);
  REQUIRE(many.ok());
  for (size_t i = 0; i < ranges.size(); ++i) {
    INFO("range " << i);
    CHECK((*many)[i] == big.bytes.substr(ranges[i].offset, ranges[i].length));
  }

  auto reader = c.OpenBlob(ref, big.digest);
  REQUIRE(reader.ok());
  CHECK((*reader)->size() == big.bytes.size());
  auto tail = (*reader)->ReadAt(big.bytes.size() - 10, 10);
  REQUIRE(tail.ok());
  CHECK(*tail == big.bytes.substr(big.bytes.size() - 10));
  auto beyond = (*reader)->ReadAt(big.bytes.size() - 10, 11);
  CHECK(beyond.status().code() == absl::StatusCode::kOutOfRange);
  auto beyond_remote = c.ReadBlobRange(ref, big.digest, big.bytes.size() - 10, 100);
  CHECK(beyond_remote.status().code() == absl::StatusCode::kOutOfRange);
}

TEST_CASE_METHOD(RegistryFixture, "Errors name host, repository, digest and HTTP status") {
  Reference ref = Ref("tide/missing:nope");
  auto resolved = client->Resolve(ref);
  REQUIRE_FALSE(resolved.ok());
  CHECK(resolved.status().code() == absl::StatusCode::kNotFound);
  CHECK(Msg(resolved.status()).find(registry->host()) != std::string::npos);
  CHECK(Msg(resolved.status()).find("tide/missing") != std::string::npos);
  CHECK(Msg(resolved.status()).find("nope") != std::string::npos);
  CHECK(Msg(resolved.status()).find("404") != std::string::npos);

  TestBlob absent = MakeBlob(100, 99);
  auto blob = client->FetchBlobBytes(ref, absent.digest);
  REQUIRE_FALSE(blob.ok());
  CHECK(blob.status().code() == absl::StatusCode::kNotFound);
  CHECK(Msg(blob.status()).find(absent.digest.str()) != std::string::npos);
  auto exists = client->BlobExists(ref, absent.digest);
  REQUIRE(exists.ok());
  CHECK_FALSE(*exists);

  auto wrong = client->PushBlob(ref, absent.digest, "not the bytes");
  CHECK(wrong.status().code() == absl::StatusCode::kInvalidArgument);

  // Nothing listens on this port: a clear transport error after the retry budget.
  Reference dead = ParseRef("127.0.0.1:1/tide/app:v1");
  auto down = client->Resolve(dead);
  REQUIRE_FALSE(down.ok());
  CHECK(down.status().code() == absl::StatusCode::kUnavailable);
  CHECK(Msg(down.status()).find("127.0.0.1:1") != std::string::npos);
}

TEST_CASE_METHOD(RegistryFixture,
                 "Push skips existing blobs, mounts across repositories and uploads in chunks") {
  RegistryClient& c = *client;
  Reference a = Ref("team/a:v1");
  Reference b = Ref("team/b:v1");
  TestBlob blob = MakeBlob((2 << 20) + 77, 5);
  PushBlobOptions chunked;
  chunked.chunk_size = 1 << 20;
  auto first = c.PushBlob(a, blob.digest, blob.bytes, chunked);
  REQUIRE(first.ok());
  CHECK(*first == PushOutcome::kUploaded);
  auto again = c.PushBlob(a, blob.digest, blob.bytes);
  REQUIRE(again.ok());
  CHECK(*again == PushOutcome::kAlreadyExists);
  PushBlobOptions mount;
  mount.mount_from = "team/a";
  auto mounted = c.PushBlob(b, blob.digest, blob.bytes, mount);
  REQUIRE(mounted.ok());
  CHECK(*mounted == PushOutcome::kMounted);
  auto fetched = c.FetchBlobBytes(b, blob.digest);
  REQUIRE(fetched.ok());
  CHECK(*fetched == blob.bytes);

  TestBlob file_blob = MakeBlob((3 << 20) + 5, 6);
  tide::testing::WriteFile(dir / "blob.bin", file_blob.bytes);
  auto from_file = c.PushBlobFile(a, file_blob.digest, (dir / "blob.bin").string(), chunked);
  REQUIRE(from_file.ok());
  CHECK(*from_file == PushOutcome::kUploaded);
  auto file_back = c.FetchBlobBytes(a, file_blob.digest);
  REQUIRE(file_back.ok());
  CHECK(*file_back == file_blob.bytes);
}

TEST_CASE_METHOD(RegistryFixture, "Indexes: push, resolve and pick a platform") {
  RegistryClient& c = *client;
  Reference ref = Ref("multi/app:amd");
  PushedImage amd = PushRandomImage(c, ref, {1000}, 11);
  PushedImage arm = PushRandomImage(c, ref.WithTag("arm"), {2000}, 12);
  nlohmann::json index = {
      {"schemaVersion", 2},
      {"mediaType", std::string(oci::kOciIndex)},
      {"manifests",
       {{{"mediaType", std::string(oci::kOciManifest)},
         {"digest", amd.manifest_digest.str()},
         {"size", amd.manifest.size()},
         {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}},
        {{"mediaType", std::string(oci::kOciManifest)},
         {"digest", arm.manifest_digest.str()},
         {"size", arm.manifest.size()},
         {"platform", {{"os", "linux"}, {"architecture", "arm64"}, {"variant", "v8"}}}}}}};
  std::string index_bytes = index.dump();
  Reference multi = ref.WithTag("multi");
  auto pushed = c.PushManifest(multi, index_bytes, oci::kOciIndex);
  REQUIRE(pushed.ok());
  auto desc = c.Resolve(multi);
  REQUIRE(desc.ok());
  CHECK(desc->media_type == oci::kOciIndex);
  CHECK(desc->digest == Digest::Of(index_bytes));

  auto arm_platform = oci::Platform::Parse("linux/arm64");
  REQUIRE(arm_platform.ok());
  auto picked = c.ResolvePlatformManifest(multi, *arm_platform);
  REQUIRE(picked.ok());
  CHECK(picked->digest == arm.manifest_digest);
  auto s390 = oci::Platform::Parse("linux/s390x");
  REQUIRE(s390.ok());
  auto none = c.ResolvePlatformManifest(multi, *s390);
  CHECK(none.status().code() == absl::StatusCode::kNotFound);
  CHECK(Msg(none.status()).find("linux/s390x") != std::string::npos);

  // Docker schema 2 media types come back as pushed.
  nlohmann::json docker_manifest = nlohmann::json::parse(amd.manifest);
  docker_manifest["mediaType"] = std::string(oci::kDockerManifest);
  docker_manifest["config"]["mediaType"] = std::string(oci::kDockerConfig);
  docker_manifest["layers"][0]["mediaType"] = std::string(oci::kDockerLayerGzip);
  Reference docker_ref = ref.WithTag("docker");
  auto docker_pushed = c.PushManifest(docker_ref, docker_manifest.dump(), oci::kDockerManifest);
  REQUIRE(docker_pushed.ok());
  auto docker_desc = c.Resolve(docker_ref);
  REQUIRE(docker_desc.ok());
  CHECK(docker_desc->media_type == oci::kDockerManifest);
  CHECK(docker_desc->digest == *docker_pushed);
  auto docker_fetched = c.FetchManifest(docker_ref);
  REQUIRE(docker_fetched.ok());
  CHECK(docker_fetched->media_type == oci::kDockerManifest);

  auto by_digest = c.ResolvePlatformManifest(multi.WithDigest(*pushed), *arm_platform);
  REQUIRE(by_digest.ok());
  CHECK(by_digest->digest == arm.manifest_digest);
}

TEST_CASE_METHOD(RegistryFixture, "A multi-layer OCI image round-trips byte for byte") {
  auto built = tide::testing::RunCommand(
      {(std::string(std::getenv("TIDE_SOURCE_DIR")) + "/test/support/images/build-busybox-image.sh"),
       (dir / "layout").string(), "v1"});
  REQUIRE(built.exit_code == 0);
  auto layout = oci::OciLayout::Open(dir / "layout");
  REQUIRE(layout.ok());
  auto top = layout->Resolve("v1");
  REQUIRE(top.ok());
  auto manifest_bytes = layout->ReadBlob(top->digest);
  REQUIRE(manifest_bytes.ok());
  auto manifest = oci::Manifest::Parse(*manifest_bytes);
  REQUIRE(manifest.ok());
  REQUIRE(manifest->layers.size() >= 3);

  Reference ref = Ref("busybox/tide:v1");
  std::vector<oci::Descriptor> blobs = manifest->layers;
  blobs.push_back(manifest->config);
  for (const oci::Descriptor& d : blobs) {
    auto r = client->PushBlobFile(ref, d.digest, layout->BlobPath(d.digest).string());
    REQUIRE(r.ok());
  }
  auto pushed = client->PushManifest(ref, *manifest_bytes, top->media_type);
  REQUIRE(pushed.ok());
  CHECK(*pushed == top->digest);

  auto other = NewClient(FastOptions(dir));  // a fresh client: nothing cached
  auto desc = other->Resolve(ref);
  REQUIRE(desc.ok());
  CHECK(desc->digest == top->digest);
  auto pulled = other->FetchManifest(ref);
  REQUIRE(pulled.ok());
  CHECK(pulled->bytes == *manifest_bytes);
  for (const oci::Descriptor& d : blobs) {
    auto bytes = other->FetchBlobBytes(ref, d.digest, d.size);
    REQUIRE(bytes.ok());
    CHECK(*bytes == tide::testing::ReadFile(layout->BlobPath(d.digest)));
  }
}

}  // namespace
}  // namespace tide::registry
