#include "oci/platform.h"

#include <catch2/catch.hpp>

#include "nlohmann/json.hpp"

using tide::oci::Platform;

TEST_CASE("Platform parses os/arch/variant and normalizes like containerd", "[oci][platform]") {
  auto p = Platform::Parse("linux/arm64/v8");
  REQUIRE(p.ok());
  CHECK(p->os == "linux");
  CHECK(p->architecture == "arm64");
  CHECK(p->variant == "v8");
  auto x = Platform::Parse("linux/x86_64");
  REQUIRE(x.ok());
  CHECK(x->architecture == "amd64");
  CHECK(x->ToString() == "linux/amd64");
  auto bare = Platform::Parse("arm64");
  REQUIRE(bare.ok());
  CHECK(bare->os == "linux");
  CHECK(bare->ToString() == "linux/arm64/v8");
  auto armhf = Platform::Parse("linux/armhf");
  REQUIRE(armhf.ok());
  CHECK(armhf->ToString() == "linux/arm/v7");
}

TEST_CASE("Platform::Parse rejects malformed text", "[oci][platform]") {
  CHECK_FALSE(Platform::Parse("").ok());
  CHECK_FALSE(Platform::Parse("linux//v8").ok());
  CHECK_FALSE(Platform::Parse("a/b/c/d").ok());
  auto bad = Platform::Parse("nonsense");
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("nonsense") != std::string::npos);
}

TEST_CASE("Platform matching follows containerd's equivalences", "[oci][platform]") {
  Platform arm64{"linux", "arm64", "", "", {}};
  Platform arm64v8{"linux", "aarch64", "v8", "", {}};
  Platform amd64{"linux", "amd64", "", "", {}};
  Platform x86{"Linux", "x86_64", "", "", {}};
  CHECK(arm64.Matches(arm64v8));
  CHECK(amd64.Matches(x86));
  CHECK_FALSE(amd64.Matches(arm64));
  Platform armv6{"linux", "arm", "v6", "", {}};
  Platform armv7{"linux", "arm", "", "", {}};
  CHECK_FALSE(armv6.Matches(armv7));
  CHECK(Platform::Host().Matches(Platform::Host()));
  CHECK(Platform::Host().os == "linux");
}

TEST_CASE("Platform JSON round trip keeps os.version and os.features", "[oci][platform]") {
  Platform w{"windows", "amd64", "", "10.0.17763.1", {"win32k"}};
  auto back = Platform::FromJson(w.ToJson(), "test");
  REQUIRE(back.ok());
  CHECK(*back == w);
  CHECK(w.ToJson()["os.version"] == "10.0.17763.1");
  CHECK_FALSE(Platform::FromJson(nlohmann::json{{"os", "linux"}}, "test").ok());
}
