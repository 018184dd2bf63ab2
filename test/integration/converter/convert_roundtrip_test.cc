#include <catch2/catch.hpp>

#include "oci/index.h"
#include "oci/manifest.h"
#include "oci/oci_layout.h"
#include "test/integration/converter/roundtrip_check.h"
#include "test/support/temp_dir.h"

using namespace tide::testing;

TEST_CASE("edge-case image converts losslessly", "[converter][roundtrip]") {
  TempDir out("tide-convert");
  std::string dst = (out / "layout").string();
  auto r = Tidectl(
      {"convert", "--chunk-size", "256K", "oci:" + TestImagesDir() + "/edge:v1", "oci:" + dst + ":tide"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("layer 2/2") != std::string::npos);  // plain progress lines off a terminal
  CHECK(CheckRoundTrip(TestImagesDir() + "/edge", "v1", dst, "tide") == 2);

  auto inspect = Tidectl({"inspect", "--entries", "oci:" + dst + ":tide"});
  INFO(inspect.output);
  REQUIRE(inspect.exit_code == 0);
  CHECK(inspect.output.find("chunk size 262144") != std::string::npos);
  CHECK(inspect.output.find("edge/multi-chunk.bin") != std::string::npos);
  CHECK(inspect.output.find("security") == std::string::npos);  // entries list shows no xattr values
}

TEST_CASE("umoci-built busybox image converts losslessly", "[converter][roundtrip]") {
  TempDir out("tide-convert");
  std::string dst = (out / "layout").string();
  auto r =
      Tidectl({"convert", "-q", "--zstd-level", "9", "oci:" + TestImagesDir() + "/busybox:v1", "oci:" + dst});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  // No destination tag given: the source tag is kept.
  CHECK(CheckRoundTrip(TestImagesDir() + "/busybox", "v1", dst, "v1") == 3);
}

TEST_CASE("Docker manifest list converts per platform, --platform picks one", "[converter][roundtrip]") {
  TempDir out("tide-convert");
  std::string dst = (out / "layout").string();
  auto all = Tidectl({"convert", "-q", "oci:" + TestImagesDir() + "/multi:v1", "oci:" + dst + ":all"});
  INFO(all.output);
  REQUIRE(all.exit_code == 0);
  CHECK(all.output.find("2 manifest(s), 3 layer(s)") !=
        std::string::npos);  // shared base layer converted once
  CHECK(CheckRoundTrip(TestImagesDir() + "/multi", "v1", dst, "all") == 4);

  auto arm = Tidectl({"convert", "-q", "--platform", "linux/aarch64", "oci:" + TestImagesDir() + "/multi:v1",
                      "oci:" + dst + ":arm"});
  INFO(arm.output);
  REQUIRE(arm.exit_code == 0);
  auto layout = tide::oci::OciLayout::Open(dst);
  REQUIRE(layout.ok());
  auto root = layout->Resolve("arm");
  REQUIRE(root.ok());
  auto index = tide::oci::Index::Parse(*layout->ReadBlob(root->digest));
  REQUIRE(index.ok());
  REQUIRE(index->manifests.size() == 1);
  CHECK(index->manifests[0].platform->architecture == "arm64");

  auto none = Tidectl({"convert", "-q", "--platform", "linux/s390x", "oci:" + TestImagesDir() + "/multi:v1",
                       "oci:" + dst + ":s390x"});
  CHECK(none.exit_code != 0);
  CHECK(none.output.find("no image manifest for platform linux/s390x") != std::string::npos);
  CHECK(layout->Tags().size() == 2);
}

TEST_CASE("inspect --blob reads a single tide layer", "[converter][inspect]") {
  TempDir out("tide-convert");
  std::string dst = (out / "layout").string();
  REQUIRE(Tidectl({"convert", "-q", "oci:" + TestImagesDir() + "/edge:v1", "oci:" + dst + ":t"}).exit_code ==
          0);
  auto layout = tide::oci::OciLayout::Open(dst);
  REQUIRE(layout.ok());
  auto root = layout->Resolve("t");
  REQUIRE(root.ok());
  auto m = tide::oci::Manifest::Parse(*layout->ReadBlob(root->digest));
  REQUIRE(m.ok());
  auto r = Tidectl({"inspect", "--blob", layout->BlobPath(m->layers[1].digest).string(), "--entries"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("entries:") != std::string::npos);
  CHECK(r.output.find("symlink-dangling -> does/not/exist") != std::string::npos);
  auto bad = Tidectl({"inspect", "--blob", layout->BlobPath(root->digest).string()});
  CHECK(bad.exit_code != 0);
  CHECK(bad.output.find("tidectl inspect: ") != std::string::npos);
}
