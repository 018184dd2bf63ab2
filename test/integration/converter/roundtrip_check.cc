#include "test/integration/converter/roundtrip_check.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>

#include "format/annotations.h"
#include "nlohmann/json.hpp"
#include "oci/image_config.h"
#include "oci/index.h"
#include "oci/manifest.h"
#include "oci/media_types.h"
#include "oci/oci_layout.h"
#include "test/support/temp_dir.h"

namespace tide::testing {

namespace {

struct Image {
  oci::Manifest manifest;
  oci::ImageConfig config;
  std::string config_bytes;
};

// platform string ("" for a single-manifest image) -> image
std::map<std::string, Image> LoadImages(const oci::OciLayout& layout, const std::string& tag) {
  std::map<std::string, Image> out;
  auto root = layout.Resolve(tag);
  REQUIRE(root.ok());
  auto bytes = layout.ReadBlob(root->digest, root->size);
  REQUIRE(bytes.ok());
  std::vector<std::pair<std::string, oci::Descriptor>> manifests;
  if (oci::IsIndex(root->media_type)) {
    auto index = oci::Index::Parse(*bytes);
    REQUIRE(index.ok());
    for (const auto& d : index->manifests) {
      REQUIRE(d.platform.has_value());
      manifests.emplace_back(d.platform->ToString(), d);
    }
  } else {
    manifests.emplace_back("", *root);
  }
  for (const auto& [platform, desc] : manifests) {
    auto mbytes = layout.ReadBlob(desc.digest, desc.size);
    REQUIRE(mbytes.ok());
    auto m = oci::Manifest::Parse(*mbytes);
    REQUIRE(m.ok());
    auto cbytes = layout.ReadBlob(m->config.digest, m->config.size);
    REQUIRE(cbytes.ok());
    auto c = oci::ImageConfig::Parse(*cbytes);
    REQUIRE(c.ok());
    out.emplace(platform, Image{*m, *c, *cbytes});
  }
  return out;
}

std::string DecompressCommand(const std::string& media_type) {
  switch (oci::LayerCompression(media_type)) {
    case oci::Compression::kGzip:
      return "gzip -dc";
    case oci::Compression::kZstd:
      return "zstd -q -dc";
    case oci::Compression::kNone:
      break;
  }
  return "cat";
}

}  // namespace

std::string TidectlPath() { return std::string(std::getenv("TIDE_BINARY_DIR")) + "/tidectl/tidectl"; }
std::string TestImagesDir() { return std::string(std::getenv("TIDE_BINARY_DIR")) + "/test-images"; }

CommandResult Tidectl(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  std::vector<std::string> argv{TidectlPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout);
}

int CheckRoundTrip(const std::string& src_layout, const std::string& src_tag, const std::string& dst_layout,
                   const std::string& dst_tag) {
  auto src = oci::OciLayout::Open(src_layout);
  auto dst = oci::OciLayout::Open(dst_layout);
  REQUIRE(src.ok());
  REQUIRE(dst.ok());
  auto src_images = LoadImages(*src, src_tag);
  auto dst_images = LoadImages(*dst, dst_tag);
  REQUIRE(src_images.size() == dst_images.size());
  TempDir scratch("tide-roundtrip");
  int checked = 0;
  for (const auto& [platform, s] : src_images) {
    INFO("platform " << platform);
    REQUIRE(dst_images.count(platform) == 1);
    const Image& d = dst_images.at(platform);
    REQUIRE(d.manifest.layers.size() == s.manifest.layers.size());
    auto new_diff_ids = d.config.DiffIds();
    REQUIRE(new_diff_ids.ok());
    REQUIRE(new_diff_ids->size() == d.manifest.layers.size());
    CHECK(*d.config.History() == *s.config.History());
    auto sj = nlohmann::json::parse(s.config_bytes);
    auto dj = nlohmann::json::parse(d.config.Serialize());
    CHECK(sj["config"] == dj["config"]);
    CHECK(sj["architecture"] == dj["architecture"]);
    for (size_t i = 0; i < s.manifest.layers.size(); ++i) {
      const oci::Descriptor& sl = s.manifest.layers[i];
      const oci::Descriptor& dl = d.manifest.layers[i];
      INFO("layer " << i << " " << sl.digest.str() << " -> " << dl.digest.str());
      CHECK(dl.media_type == oci::kOciLayerZstd);
      CHECK(dl.annotations.count(std::string(format::kAnnotationIndexDigest)) == 1);
      CHECK(dl.annotations.count(std::string(format::kAnnotationIndexOffset)) == 1);
      std::string src_tar = (scratch / "src.tar").string();
      std::string dst_tar = (scratch / "dst.tar").string();
      auto a = RunShell(DecompressCommand(sl.media_type) + " < " + src->BlobPath(sl.digest).string() + " > " +
                        src_tar);
      REQUIRE(a.exit_code == 0);
      auto b = RunShell("zstd -q -dc < " + dst->BlobPath(dl.digest).string() + " > " + dst_tar);
      INFO(b.output);
      REQUIRE(b.exit_code == 0);
      auto cmp = RunShell("cmp " + src_tar + " " + dst_tar);
      INFO(cmp.output);
      CHECK(cmp.exit_code == 0);
      auto sum = RunShell("sha256sum < " + dst_tar);
      REQUIRE(sum.exit_code == 0);
      CHECK("sha256:" + sum.output.substr(0, 64) == (*new_diff_ids)[i].str());
      ++checked;
    }
  }
  return checked;
}

}  // namespace tide::testing
