#include "test/integration/registry/registry_fixture.h"

#include <catch2/catch.hpp>

#include "test/support/registry/pki.h"

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

void StartTokenRegistry(TokenSetup& s, tide::testing::TokenServerOptions to) {
  auto pki = tide::testing::MakeTestPki(s.dir.path());
  REQUIRE(pki.ok());
  to.signing_key_path = pki->signing_key.string();
  to.signing_cert_path = pki->signing_cert.string();
  auto tokens = tide::testing::TokenServer::Start(to);
  REQUIRE(tokens.ok());
  s.tokens = std::move(*tokens);
  tide::testing::RegistryOptions ro;
  ro.token_realm = s.tokens->realm();
  ro.token_service = to.service;
  ro.token_issuer = to.issuer;
  ro.token_rootcert_path = pki->signing_cert.string();
  s.reg = StartRegistryProcess(ro);
}

}  // namespace tide::registry::testing
