#include "test/integration/registry/registry_fixture.h"

#include <catch2/catch.hpp>

namespace tide::registry::testing {

RegistryClientOptions FastOptions(const tide::testing::TempDir& dir) {
  tide::testing::WriteFile(dir / "docker-config.json", "{}");
  RegistryClientOptions o;
  o.docker_config_path = (dir / "docker-config.json").string();
  o.connect_timeout = std::chrono::milliseconds(2000);
  o.low_speed_time = std::chrono::milliseconds(1000);
  o.retry = RetryOptions{.max_attempts = 6,
                         .initial_backoff = std::chrono::milliseconds(10),
                         .max_backoff = std::chrono::milliseconds(200),
                         .budget = std::chrono::milliseconds(5000)};
  return o;
}

std::unique_ptr<RegistryClient> NewClient(const RegistryClientOptions& options) {
  auto client = RegistryClient::Create(options);
  INFO(client.status().ToString());
  REQUIRE(client.ok());
  return std::move(*client);
}

Reference ParseRef(const std::string& text) {
  auto ref = Reference::Parse(text);
  INFO(text << ": " << ref.status().ToString());
  REQUIRE(ref.ok());
  return *std::move(ref);
}

std::unique_ptr<tide::testing::RegistryProcess> StartRegistryProcess(
    const tide::testing::RegistryOptions& options) {
  auto registry = tide::testing::RegistryProcess::Start(options);
  INFO(registry.status().ToString());
  REQUIRE(registry.ok());
  return std::move(*registry);
}

}  // namespace tide::registry::testing
