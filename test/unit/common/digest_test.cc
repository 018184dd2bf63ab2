#include "common/digest.h"

#include <catch2/catch.hpp>

TEST_CASE("Digest parses sha256 and rejects everything else", "[digest]") {
  auto d = tide::Digest::Of("hello");
  CHECK(d.str() == "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  auto parsed = tide::Digest::Parse(d.str());
  REQUIRE(parsed.ok());
  CHECK(*parsed == d);
  CHECK(tide::Digest::FromSha256(parsed->bytes()) == d);
  CHECK_FALSE(tide::Digest::Parse("sha512:abcd").ok());
  CHECK_FALSE(tide::Digest::Parse("sha256:ABCD").ok());
  CHECK_FALSE(
      tide::Digest::Parse("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982Z").ok());
}
