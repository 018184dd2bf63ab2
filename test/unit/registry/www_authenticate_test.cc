#include "registry/www_authenticate.h"

#include <catch2/catch.hpp>

namespace tide::registry {
namespace {

TEST_CASE("WWW-Authenticate bearer challenge with quoted params") {
  auto c = ParseWwwAuthenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  REQUIRE(c.size() == 1);
  CHECK(c[0].scheme == "bearer");
  CHECK(c[0].params.at("realm") == "https://auth.docker.io/token");
  CHECK(c[0].params.at("service") == "registry.docker.io");
  CHECK(c[0].params.at("scope") == "repository:library/busybox:pull");
}

TEST_CASE("WWW-Authenticate with several challenges, tokens and escapes") {
  auto c = ParseWwwAuthenticate(R"(Basic realm="a \"b\"", Bearer realm=http://x/t , error=invalid_token)");
  REQUIRE(c.size() == 2);
  CHECK(c[0].scheme == "basic");
  CHECK(c[0].params.at("realm") == "a \"b\"");
  CHECK(c[1].scheme == "bearer");
  CHECK(c[1].params.at("realm") == "http://x/t");
  CHECK(c[1].params.at("error") == "invalid_token");
}

TEST_CASE("WWW-Authenticate tolerates garbage without inventing params") {
  CHECK(ParseWwwAuthenticate("").empty());
  auto c = ParseWwwAuthenticate("Bearer realm=\"unterminated");
  REQUIRE(c.size() == 1);
  CHECK(c[0].params.count("realm") == 0);
}

}  // namespace
}  // namespace tide::registry
