#include "pull/snapshot_labels.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "pull/lazy_puller.h"

namespace tide::pull {
namespace {

Digest D(std::string_view text) {
  auto d = Digest::Parse(text);
  REQUIRE(d.ok());
  return *d;
}

oci::Descriptor Layer(char fill, std::map<std::string, std::string> annotations = {}) {
  oci::Descriptor d;
  d.media_type = "application/vnd.oci.image.layer.v1.tar+zstd";
  d.digest = D(absl::StrCat("sha256:", std::string(64, fill)));
  d.size = 10;
  d.annotations = std::move(annotations);
  return d;
}

TEST_CASE("ChainIds follows the OCI definition (values checked against containerd)") {
  // DiffIDs of the busybox test image and the chainIDs containerd's own unpack gave them.
  std::vector<Digest> diff_ids = {
      D("sha256:311712bc79d6ef4d07c45aad53976a54691f7f6715881abe808a325ee0c24718"),
      D("sha256:d02eef1c57e82a3670a37b2cbb322603c81e93030e28b2ee680f989ffd524a1c"),
      D("sha256:f48dc817d15df8a31ac8deaae75b9280b1b2ecd1e2945030f4519efebed27c78")};
  std::vector<Digest> chain = ChainIds(diff_ids);
  REQUIRE(chain.size() == 3);
  CHECK(chain[0] == diff_ids[0]);
  CHECK(chain[1].str() == "sha256:2161b48df1a594f7757547b334a27ccefe5e969dad2db91f7c7918c55484c476");
  CHECK(chain[2].str() == "sha256:82427b1e5007cf75b8fe41335a6e754cb6f1a3675521e05fc7f7bd71016956f4");
  CHECK(ChainIds({}).empty());
}

TEST_CASE("PrepareLabels sends snapshot.ref, the layer's snapshot annotations and the cri labels") {
  PullPlan plan;
  auto ref = registry::Reference::Parse("127.0.0.1:5000/app:v1");
  REQUIRE(ref.ok());
  plan.ref = *ref;
  plan.manifest.descriptor.digest = D(absl::StrCat("sha256:", std::string(64, 'e')));
  plan.parsed_manifest.layers = {Layer('a'),
                                 Layer('b', {{"containerd.io/snapshot/tide.index-digest", "sha256:x"},
                                             {"org.example.other", "dropped"}})};
  plan.chain_ids = {D(absl::StrCat("sha256:", std::string(64, '1'))),
                    D(absl::StrCat("sha256:", std::string(64, '2')))};

  containerd_client::Labels cri = PrepareLabels(plan, 1, /*cri=*/true);
  CHECK(cri.at(kSnapshotRefLabel) == plan.chain_ids[1].str());
  CHECK(cri.at("containerd.io/snapshot/tide.index-digest") == "sha256:x");
  CHECK_FALSE(cri.contains("org.example.other"));
  CHECK(cri.at(kCriImageRefLabel) == "127.0.0.1:5000/app:v1");
  CHECK(cri.at(kCriManifestDigestLabel) == plan.manifest.descriptor.digest.str());
  CHECK(cri.at(kCriLayerDigestLabel) == plan.parsed_manifest.layers[1].digest.str());
  CHECK(cri.at(kCriImageLayersLabel) == plan.parsed_manifest.layers[1].digest.str());
  CHECK(PrepareLabels(plan, 0, true).at(kCriImageLayersLabel) ==
        absl::StrCat(plan.parsed_manifest.layers[0].digest.str(), ",",
                     plan.parsed_manifest.layers[1].digest.str()));

  // Without cri.*: the layer is located by tide.repository and tide.layer-digest, set by tidectl.
  containerd_client::Labels plain = PrepareLabels(plan, 1, /*cri=*/false);
  CHECK(plain.size() == 4);
  CHECK(plain.contains(kSnapshotRefLabel));
  CHECK(plain.at("containerd.io/snapshot/tide.repository") == "127.0.0.1:5000/app:v1");
  CHECK(plain.at("containerd.io/snapshot/tide.layer-digest") == plan.parsed_manifest.layers[1].digest.str());
}

TEST_CASE("an image's annotations cannot choose where a layer is fetched from") {
  PullPlan plan;
  auto ref = registry::Reference::Parse("127.0.0.1:5000/app:v1");
  REQUIRE(ref.ok());
  plan.ref = *ref;
  plan.parsed_manifest.layers = {Layer('a', {{"containerd.io/snapshot/cri.image-ref", "evil.example/x:y"},
                                             {"containerd.io/snapshot/cri.layer-digest", "sha256:evil"},
                                             {"containerd.io/snapshot/tide.repository", "evil.example/x"},
                                             {"containerd.io/snapshot/tide.layer-digest", "sha256:evil"},
                                             {"containerd.io/snapshot.ref", "sha256:evil"},
                                             {"containerd.io/snapshot/tide.index-size", "123"}})};
  plan.chain_ids = {D(absl::StrCat("sha256:", std::string(64, '1')))};
  for (bool cri : {false, true}) {
    INFO("cri labels: " << cri);
    containerd_client::Labels labels = PrepareLabels(plan, 0, cri);
    for (const auto& [key, value] : labels) {
      INFO(key << "=" << value);
      CHECK(value.find("evil") == std::string::npos);
    }
    CHECK(labels.at("containerd.io/snapshot/tide.index-size") == "123");
    CHECK(labels.at("containerd.io/snapshot/tide.repository") == "127.0.0.1:5000/app:v1");
    CHECK(labels.at(kSnapshotRefLabel) == plan.chain_ids[0].str());
    CHECK(labels.contains(kCriImageRefLabel) == cri);
  }
}

TEST_CASE("cri.image-layers is cut to containerd's 4096-byte label limit") {
  std::vector<oci::Descriptor> layers;
  for (int i = 0; i < 100; ++i) layers.push_back(Layer(static_cast<char>('a' + i % 6)));
  std::string value = ImageLayersLabel(layers, 0);
  CHECK(value.size() + std::string(kCriImageLayersLabel).size() <= 4096);
  std::vector<std::string> parts = absl::StrSplit(value, ',');
  CHECK(parts.size() == (4096 - std::string(kCriImageLayersLabel).size() + 1) / 72);
  CHECK(parts.front() == layers[0].digest.str());
  CHECK(ImageLayersLabel(layers, 99) == layers[99].digest.str());
}

TEST_CASE("GC labels name what each document references") {
  oci::Manifest manifest;
  manifest.config = Layer('c');
  manifest.layers = {Layer('a'), Layer('b')};
  containerd_client::Labels labels = ManifestGcLabels(manifest);
  CHECK(labels.size() == 3);
  CHECK(labels.at("containerd.io/gc.ref.content.config") == manifest.config.digest.str());
  CHECK(labels.at("containerd.io/gc.ref.content.l.1") == manifest.layers[1].digest.str());
  containerd_client::Labels index = IndexGcLabels({Layer('d'), Layer('f')});
  CHECK(index.at("containerd.io/gc.ref.content.m.0") == Layer('d').digest.str());
  CHECK(index.at("containerd.io/gc.ref.content.m.1") == Layer('f').digest.str());
}

}  // namespace
}  // namespace tide::pull
