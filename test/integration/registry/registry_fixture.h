#ifndef TIDE_TEST_INTEGRATION_REGISTRY_REGISTRY_FIXTURE_H_
#define TIDE_TEST_INTEGRATION_REGISTRY_REGISTRY_FIXTURE_H_

#include <memory>
#include <string>

#include "registry/reference.h"
#include "registry/registry_client.h"
#include "test/support/registry/token_server.h"
#include "test/support/registry_process.h"
#include "test/support/temp_dir.h"

// The setup the registry client's integration tests share. Each helper fails the test case (Catch
// REQUIRE) when what it makes cannot be made.
namespace tide::registry::testing {

// Options with short timeouts and backoff so failure paths finish in seconds; the docker config
// is an empty file so the machine's ~/.docker never leaks in.
RegistryClientOptions FastOptions(const tide::testing::TempDir& dir);

std::unique_ptr<RegistryClient> NewClient(const RegistryClientOptions& options);
Reference ParseRef(const std::string& text);
std::unique_ptr<tide::testing::RegistryProcess> StartRegistryProcess(
    const tide::testing::RegistryOptions& options = {});

// What most tests start from: a temp dir, a docker-registry on plain http and a client with
// FastOptions.
struct RegistryFixture {
  tide::testing::TempDir dir;
  std::unique_ptr<tide::testing::RegistryProcess> registry = StartRegistryProcess();
  std::unique_ptr<RegistryClient> client = NewClient(FastOptions(dir));

  // "<registry host>/<repository_and_tag>".
  Reference Ref(const std::string& repository_and_tag) const {
    return ParseRef(registry->host() + "/" + repository_and_tag);
  }
};

// A docker-registry with bearer token auth and the token server it trusts.
struct TokenSetup {
  tide::testing::TempDir dir;
  std::unique_ptr<tide::testing::TokenServer> tokens;
  std::unique_ptr<tide::testing::RegistryProcess> reg;
};
void StartTokenRegistry(TokenSetup& s, tide::testing::TokenServerOptions to);

}  // namespace tide::registry::testing

#endif  // TIDE_TEST_INTEGRATION_REGISTRY_REGISTRY_FIXTURE_H_
