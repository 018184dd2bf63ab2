#include "registry/reference.h"

#include <catch2/catch.hpp>

namespace tide::registry {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

TEST_CASE("Reference applies Docker Hub defaults") {
  auto r = Reference::Parse("busybox");
  REQUIRE(r.ok());
  CHECK(r->registry() == "docker.io");
  CHECK(r->repository() == "library/busybox");
  CHECK(r->tag() == "latest");
  CHECK_FALSE(r->digest().has_value());
  CHECK(r->String() == "docker.io/library/busybox:latest");

  auto user = Reference::Parse("alice/app:1.2");
  REQUIRE(user.ok());
  CHECK(user->registry() == "docker.io");
  CHECK(user->repository() == "alice/app");
  CHECK(user->tag() == "1.2");

  auto index = Reference::Parse("index.docker.io/library/ubuntu:22.04");
  REQUIRE(index.ok());
  CHECK(index->registry() == "docker.io");
}

TEST_CASE("Reference parses hosts with ports, tags and digests") {
  auto r = Reference::Parse("127.0.0.1:5000/team/app:v1@" + kDigest);
  REQUIRE(r.ok());
  CHECK(r->registry() == "127.0.0.1:5000");
  CHECK(r->repository() == "team/app");
  CHECK(r->tag() == "v1");
  REQUIRE(r->digest().has_value());
  CHECK(r->digest()->str() == kDigest);
  CHECK(r->ObjectName() == kDigest);

  auto local = Reference::Parse("localhost/app");
  REQUIRE(local.ok());
  CHECK(local->registry() == "localhost");
  CHECK(local->repository() == "app");

  auto digest_only = Reference::Parse("ghcr.io/org/img@" + kDigest);
  REQUIRE(digest_only.ok());
  CHECK(digest_only->tag().empty());
  CHECK(digest_only->String() == "ghcr.io/org/img@" + kDigest);

  auto port_no_tag = Reference::Parse("registry.example.com:443/a/b/c");
  REQUIRE(port_no_tag.ok());
  CHECK(port_no_tag->registry() == "registry.example.com:443");
  CHECK(port_no_tag->repository() == "a/b/c");
  CHECK(port_no_tag->tag() == "latest");
}

TEST_CASE("Reference rejects malformed input with a reason") {
  for (const char* bad : {"", "UPPER/case", "host:5000/repo:bad tag", "repo@sha256:1234", "a//b",
                          "repo:", "-lead/x", "x/y_", "host:5000/"}) {
    INFO(bad);
    auto r = Reference::Parse(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(r.status().message()).find("invalid image reference") != std::string::npos);
  }
}

TEST_CASE("IsLocalhost matches loopback names only") {
  CHECK(IsLocalhost("localhost"));
  CHECK(IsLocalhost("localhost:5000"));
  CHECK(IsLocalhost("127.0.0.1:35000"));
  CHECK(IsLocalhost("[::1]:5000"));
  CHECK(IsLocalhost("127.1.2.3"));
  CHECK(IsLocalhost("[::1]"));
  CHECK_FALSE(IsLocalhost("localhost.example.com"));
  CHECK_FALSE(IsLocalhost("127.evil.example"));
  CHECK_FALSE(IsLocalhost("127.evil.example:5000"));
  CHECK_FALSE(IsLocalhost("127.0.0.1.evil.example:5000"));
  CHECK_FALSE(IsLocalhost("127.0.0.1:5000x"));
  CHECK_FALSE(IsLocalhost("[::1]evil.example"));
  CHECK_FALSE(IsLocalhost("[::2]:5000"));
  CHECK_FALSE(IsLocalhost("128.0.0.1"));
  CHECK_FALSE(IsLocalhost("10.0.0.1:5000"));
  CHECK_FALSE(IsLocalhost("docker.io"));
}

}  // namespace
}  // namespace tide::registry
