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
  // skopeo's rule: the directory ends at the first colon, the reference is everything after it.
  auto colon_in_ref = ImageRef::Parse("oci:/var/tmp/sdw:sdweb:latest");
  REQUIRE(colon_in_ref.ok());
  CHECK(colon_in_ref->layout_dir == "/var/tmp/sdw");
  CHECK(colon_in_ref->tag == "sdweb:latest");
  CHECK(colon_in_ref->ToString() == "oci:/var/tmp/sdw:sdweb:latest");
  auto slash_in_ref = ImageRef::Parse("oci:/a:b/c");
  REQUIRE(slash_in_ref.ok());
  CHECK(slash_in_ref->layout_dir == "/a");
  CHECK(slash_in_ref->tag == "b/c");
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
