// Where a registry's credentials may go when its bearer challenge names a token realm
// (registry/realm_policy.h): a fake registry on 127.0.0.1 and a token endpoint that records what
// it was sent.
#include <catch2/catch.hpp>
#include <mutex>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "registry/registry_client.h"
#include "test/integration/registry/registry_fixture.h"
#include "test/integration/registry/test_image.h"
#include "test/support/registry/test_http_server.h"
#include "test/support/temp_dir.h"

namespace tide::registry {
namespace {

using tide::testing::TempDir;
using tide::testing::TestHttpRequest;
using tide::testing::TestHttpResponse;
using tide::testing::TestHttpServer;
using namespace tide::registry::testing;

constexpr const char* kToken = "token-for-the-registry";

// A token endpoint that hands out kToken to anyone and remembers each request's secrets.
struct RecordingTokenEndpoint {
  std::mutex mu;
  std::vector<std::string> authorizations;
  std::vector<std::string> bodies;
  std::unique_ptr<TestHttpServer> server;

  void Start() {
    auto s = TestHttpServer::Start([this](const TestHttpRequest& req) {
      std::lock_guard lock(mu);
      authorizations.push_back(req.Header("authorization"));
      bodies.push_back(req.body);
      return TestHttpResponse{
          200,
          {{"Content-Type", "application/json"}},
          absl::StrCat("{\"token\": \"", kToken, "\", \"access_token\": \"", kToken, "\"}")};
    });
    REQUIRE(s.ok());
    server = std::move(*s);
  }
  // Basic credentials travel in the header, identity tokens in the POST form.
  bool SawCredentials() {
    std::lock_guard lock(mu);
    for (const auto& a : authorizations) {
      if (!a.empty()) return true;
    }
    for (const auto& b : bodies) {
      if (b.find("s3cret") != std::string::npos) return true;
    }
    return false;
  }
  size_t requests() {
    std::lock_guard lock(mu);
    return authorizations.size();
  }
};

// A registry that wants a bearer token from `realm` and has no blobs.
std::unique_ptr<TestHttpServer> StartRegistry(const std::string& realm) {
  auto s = TestHttpServer::Start([realm](const TestHttpRequest& req) {
    if (req.Header("authorization") == absl::StrCat("Bearer ", kToken)) return TestHttpResponse{404, {}, ""};
    return TestHttpResponse{
        401, {{"WWW-Authenticate", absl::StrCat("Bearer realm=\"", realm, "\",service=\"fake\"")}}, ""};
  });
  REQUIRE(s.ok());
  return std::move(*s);
}

absl::StatusOr<bool> Probe(const TempDir& dir, const std::string& host, const Credential& cred) {
  RegistryClientOptions options = FastOptions(dir);
  if (!cred.empty()) options.credentials[host] = cred;
  return NewClient(options)->BlobExists(ParseRef(host + "/app/img:v1"), MakeBlob(10, 1).digest);
}

TEST_CASE("credentials of a plain-http registry never reach an http token realm on another host") {
  TempDir dir;
  RecordingTokenEndpoint tokens;
  tokens.Start();
  // Same server, other host name: what an attacker on the path or a hostile registry would name.
  auto registry = StartRegistry(absl::StrCat("http://localhost:", tokens.server->port(), "/token"));
  std::string host = registry->host();

  SECTION("basic credentials") {
    auto r = Probe(dir, host, Credential{"alice", "s3cret-password", ""});
    INFO(r.status().ToString());
    CHECK(absl::IsUnauthenticated(r.status()));
    CHECK(std::string(r.status().message()).find("refusing to send the credentials for " + host) !=
          std::string::npos);
    CHECK(std::string(r.status().message()).find("s3cret-password") == std::string::npos);
  }
  SECTION("identity tokens") {
    auto r = Probe(dir, host, Credential{"", "", "refresh-s3cret"});
    INFO(r.status().ToString());
    CHECK(absl::IsUnauthenticated(r.status()));
  }
  CHECK_FALSE(tokens.SawCredentials());
}

TEST_CASE("an http token realm on the plain-http registry's own host gets its credentials") {
  TempDir dir;
  RecordingTokenEndpoint tokens;
  tokens.Start();
  auto registry = StartRegistry(tokens.server->url() + "/token");
  auto r = Probe(dir, registry->host(), Credential{"alice", "s3cret-password", ""});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  std::lock_guard lock(tokens.mu);
  REQUIRE_FALSE(tokens.authorizations.empty());
  CHECK(tokens.authorizations[0] == "Basic " + absl::Base64Escape("alice:s3cret-password"));
}

TEST_CASE("without credentials any http token realm may issue an anonymous token") {
  TempDir dir;
  RecordingTokenEndpoint tokens;
  tokens.Start();
  auto registry = StartRegistry(absl::StrCat("http://localhost:", tokens.server->port(), "/token"));
  auto r = Probe(dir, registry->host(), Credential{});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  CHECK(tokens.requests() >= 1);
  CHECK_FALSE(tokens.SawCredentials());
}

}  // namespace
}  // namespace tide::registry
