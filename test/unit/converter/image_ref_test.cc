#include "converter/image_ref.h"

#include <catch2/catch.hpp>

using tide::converter::ImageRef;

TEST_CASE("ImageRef parses skopeo-style transports", "[converter]") {
  auto oci = ImageRef::Parse("oci:/tmp/layout:v1");
  REQUIRE(oci.ok());
  CHECK(oci->transport == ImageRef::Transport::kOciLayout);
  CHECK(oci->layout_dir == "/tmp/layout");
  CHECK(oci->tag == "v1");
  auto untagged = ImageRef::Parse("oci:relative/dir");
  REQUIRE(untagged.ok());
  CHECK(untagged->layout_dir == "relative/dir");
  CHECK(untagged->tag.empty());
  auto colon_in_dir = ImageRef::Parse("oci:/a:b/c");
  REQUIRE(colon_in_dir.ok());
  CHECK(colon_in_dir->layout_dir == "/a:b/c");
  auto docker = ImageRef::Parse("docker://127.0.0.1:5000/team/app@sha256:abc");
  REQUIRE(docker.ok());
  CHECK(docker->transport == ImageRef::Transport::kRegistry);
  CHECK(docker->reference == "127.0.0.1:5000/team/app@sha256:abc");
  CHECK(docker->ToString() == "docker://127.0.0.1:5000/team/app@sha256:abc");
  CHECK(oci->ToString() == "oci:/tmp/layout:v1");
}

TEST_CASE("ImageRef rejects unknown transports and empty parts", "[converter]") {
  auto bad = ImageRef::Parse("busybox:latest");
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("unknown transport") != std::string::npos);
  CHECK_FALSE(ImageRef::Parse("oci:").ok());
  CHECK_FALSE(ImageRef::Parse("oci::tag").ok());
  CHECK_FALSE(ImageRef::Parse("docker://").ok());
}
