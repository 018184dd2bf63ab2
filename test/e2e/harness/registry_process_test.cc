#include "test/support/registry_process.h"

#include <catch2/catch.hpp>

#include "test/support/subprocess.h"

// The test harness itself: a private docker-registry answers the distribution API ping.
TEST_CASE("RegistryProcess starts a private registry on loopback", "[support]") {
  auto registry = tide::testing::RegistryProcess::Start();
  REQUIRE(registry.ok());
  auto r = tide::testing::RunCommand(
      {"curl", "-sf", "-o", "/dev/null", "-w", "%{http_code}", (*registry)->url() + "/v2/"});
  CHECK(r.exit_code == 0);
  CHECK(r.output == "200");
}
