// TLS with a test CA, htpasswd basic auth and bearer token auth against real docker-registry.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <thread>

#include "absl/strings/escaping.h"
#include "registry/registry_client.h"
#include "test/integration/registry/registry_fixture.h"
#include "test/integration/registry/test_image.h"
#include "test/support/registry/pki.h"
#include "test/support/registry/token_server.h"
#include "test/support/registry_process.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace tide::registry {
namespace {

using tide::testing::RegistryOptions;
using tide::testing::RegistryProcess;
using tide::testing::TempDir;
using tide::testing::WriteFile;
using namespace tide::registry::testing;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

void WriteHostsToml(const TempDir& dir, const std::string& host, const std::string& body) {
  WriteFile(dir / "hosts" / host / "hosts.toml", body);
}

TEST_CASE("TLS with a test CA and htpasswd basic auth") {
  TempDir dir;
  auto pki = tide::testing::MakeTestPki(dir.path());
  REQUIRE(pki.ok());
  auto htpasswd = tide::testing::RunCommand({"htpasswd", "-Bbn", "alice", "wonderland"});
  REQUIRE(htpasswd.exit_code == 0);
  WriteFile(dir / "htpasswd", htpasswd.output);
  RegistryOptions ro;
  ro.htpasswd_path = (dir / "htpasswd").string();
  ro.tls_cert_path = pki->server_cert.string();
  ro.tls_key_path = pki->server_key.string();
  auto reg = StartRegistryProcess(ro);
  std::string host = reg->host();
  Reference ref = ParseRef(host + "/secure/app:v1");

  // 127.0.0.1 defaults to plain http, so hosts.toml names the https server and its CA.
  WriteHostsToml(dir, host, "server = \"https://" + host + "\"\nca = \"" + pki->ca_cert.string() + "\"\n");
  RegistryClientOptions options = FastOptions(dir);
  options.hosts_dir = (dir / "hosts").string();

  SECTION("credentials from explicit options") {
    options.credentials[host] = Credential{"alice", "wonderland", ""};
    auto client = NewClient(options);
    PushedImage image = PushRandomImage(*client, ref, {70000, 1000}, 3);
    auto pulled = client->FetchManifest(ref);
    REQUIRE(pulled.ok());
    CHECK(pulled->digest == image.manifest_digest);
    auto range = client->ReadBlobRange(ref, image.layers[0].digest, 100, 1000);
    REQUIRE(range.ok());
    CHECK(*range == image.layers[0].bytes.substr(100, 1000));
  }
  SECTION("credentials from docker config.json") {
    WriteFile(dir / "config.json", "{\"auths\": {\"" + host + "\": {\"auth\": \"" +
                                       absl::Base64Escape("alice:wonderland") + "\"}}}");
    options.docker_config_path = (dir / "config.json").string();
    auto client = NewClient(options);
    PushedImage image = PushRandomImage(*client, ref, {1000}, 4);
    auto resolved = client->Resolve(ref);
    REQUIRE(resolved.ok());
    CHECK(resolved->digest == image.manifest_digest);
  }
  SECTION("no credentials or wrong ones: a clear error that never shows the secret") {
    auto anonymous = NewClient(options);
    auto r = anonymous->Resolve(ref);
    CHECK(r.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(Msg(r.status()).find(host) != std::string::npos);
    CHECK(Msg(r.status()).find("no credentials") != std::string::npos);

    options.credentials[host] = Credential{"alice", "not-the-password", ""};
    auto wrong = NewClient(options);
    auto w = wrong->Resolve(ref);
    CHECK(w.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(Msg(w.status()).find("user alice") != std::string::npos);
    CHECK(Msg(w.status()).find("not-the-password") == std::string::npos);
  }
  SECTION("an untrusted certificate fails TLS verification; skip_verify accepts it") {
    WriteHostsToml(dir, host, "server = \"https://" + host + "\"\n");
    options.credentials[host] = Credential{"alice", "wonderland", ""};
    auto strict = NewClient(options);
    auto r = strict->Resolve(ref);
    CHECK(r.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(Msg(r.status()).find("TLS") != std::string::npos);

    WriteHostsToml(dir, host, "server = \"https://" + host + "\"\nskip_verify = true\n");
    auto lax = NewClient(options);
    TestBlob blob = MakeBlob(5000, 8);
    auto pushed = lax->PushBlob(ref, blob.digest, blob.bytes);
    REQUIRE(pushed.ok());
  }
}

TEST_CASE("Client certificates from hosts.toml for a registry that requires them") {
  TempDir dir;
  auto pki = tide::testing::MakeTestPki(dir.path());
  REQUIRE(pki.ok());
  RegistryOptions ro;
  ro.tls_cert_path = pki->server_cert.string();
  ro.tls_key_path = pki->server_key.string();
  ro.tls_client_ca_path = pki->ca_cert.string();
  auto reg = StartRegistryProcess(ro);
  std::string host = reg->host();
  Reference ref = ParseRef(host + "/mtls/app:v1");
  RegistryClientOptions options = FastOptions(dir);
  options.retry.max_attempts = 2;
  options.hosts_dir = (dir / "hosts").string();

  WriteHostsToml(dir, host, "server = \"https://" + host + "\"\nca = \"" + pki->ca_cert.string() + "\"\n");
  auto without = NewClient(options);
  TestBlob blob = MakeBlob(3000, 9);
  auto refused = without->PushBlob(ref, blob.digest, blob.bytes);
  REQUIRE_FALSE(refused.ok());
  CHECK(Msg(refused.status()).find(host) != std::string::npos);

  WriteHostsToml(dir, host,
                 "server = \"https://" + host + "\"\nca = \"" + pki->ca_cert.string() + "\"\nclient = [[\"" +
                     pki->client_cert.string() + "\", \"" + pki->client_key.string() + "\"]]\n");
  auto with = NewClient(options);
  auto pushed = with->PushBlob(ref, blob.digest, blob.bytes);
  INFO(pushed.status().ToString());
  REQUIRE(pushed.ok());
  auto back = with->ReadBlobRange(ref, blob.digest, 10, 20);
  REQUIRE(back.ok());
  CHECK(*back == blob.bytes.substr(10, 20));
}

TEST_CASE("Bearer token auth: scoped tokens are fetched once and reused") {
  TokenSetup s;
  tide::testing::TokenServerOptions to;
  to.username = "bob";
  to.password = "builder";
  StartTokenRegistry(s, to);
  std::string host = s.reg->host();
  Reference ref = ParseRef(host + "/tokened/app:v1");

  // Credentials through a docker-credential helper named in config.json.
  auto helper = s.dir / "docker-credential-tidetest";
  WriteFile(helper, "#!/bin/sh\nread url\n[ \"$url\" = \"" + host +
                        "\" ] && echo '{\"Username\":\"bob\",\"Secret\":\"builder\"}' && exit 0\n"
                        "echo 'credentials not found'; exit 1\n");
  chmod(helper.c_str(), 0755);
  WriteFile(s.dir / "config.json", "{\"credHelpers\": {\"" + host + "\": \"tidetest\"}}");
  RegistryClientOptions options = FastOptions(s.dir);
  options.docker_config_path = (s.dir / "config.json").string();
  options.credential_helper_dir = s.dir.path().string();
  auto client = NewClient(options);
  PushedImage image = PushRandomImage(*client, ref, {123456, 789}, 21);
  int after_push = s.tokens->token_requests();
  CHECK(after_push >= 1);
  for (int i = 0; i < 3; ++i) {
    auto bytes = client->FetchBlobBytes(ref, image.layers[0].digest);
    REQUIRE(bytes.ok());
    CHECK(*bytes == image.layers[0].bytes);
  }
  int after_pulls = s.tokens->token_requests();
  CHECK(after_pulls - after_push <= 1);  // one pull-only scope at most, then cached
  auto again = client->ReadBlobRange(ref, image.layers[0].digest, 10, 10);
  REQUIRE(again.ok());
  CHECK(s.tokens->token_requests() == after_pulls);

  // A cold client reading 16 ranges at once shares one token instead of fetching 16.
  auto cold = NewClient(options);
  std::vector<ByteRange> ranges;
  for (uint64_t i = 0; i < 16; ++i) ranges.push_back({i * 1000, 1000});
  int before_batch = s.tokens->token_requests();
  auto batch = cold->ReadBlobRanges(ref, image.layers[0].digest, ranges);
  REQUIRE(batch.ok());
  CHECK((*batch)[15] == image.layers[0].bytes.substr(15000, 1000));
  CHECK(s.tokens->token_requests() == before_batch + 1);

  RegistryClientOptions anon_options = FastOptions(s.dir);
  auto anonymous = NewClient(anon_options);
  auto refused = anonymous->Resolve(ref);
  CHECK(refused.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(Msg(refused.status()).find("token") != std::string::npos);
  CHECK(s.tokens->refused() >= 1);
}

TEST_CASE("Identity tokens from config.json use the OAuth2 refresh-token grant") {
  TokenSetup s;
  tide::testing::TokenServerOptions to;
  to.username = "nobody-by-password";
  to.password = "unused";
  to.refresh_token = "refresh-xyz";
  StartTokenRegistry(s, to);
  std::string host = s.reg->host();
  Reference ref = ParseRef(host + "/idtoken/app:v1");
  WriteFile(s.dir / "config.json", "{\"auths\": {\"" + host + "\": {\"identitytoken\": \"refresh-xyz\"}}}");
  RegistryClientOptions options = FastOptions(s.dir);
  options.docker_config_path = (s.dir / "config.json").string();
  auto client = NewClient(options);
  PushedImage image = PushRandomImage(*client, ref, {4000}, 71);
  auto desc = client->Resolve(ref);
  REQUIRE(desc.ok());
  CHECK(desc->digest == image.manifest_digest);
  CHECK(s.tokens->refused() == 0);

  WriteFile(s.dir / "config.json", "{\"auths\": {\"" + host + "\": {\"identitytoken\": \"stale\"}}}");
  auto stale = NewClient(options);
  auto r = stale->Resolve(ref);
  CHECK(r.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(Msg(r.status()).find("identity token") != std::string::npos);
  CHECK(Msg(r.status()).find("stale") == std::string::npos);
}

TEST_CASE("Bearer tokens are renewed on 401 and when they expire") {
  TokenSetup s;
  tide::testing::TokenServerOptions to;
  to.expires_in = 1;
  to.expired_first_tokens = 1;  // the first token is stale: the registry answers 401 to it
  StartTokenRegistry(s, to);
  Reference ref = ParseRef(s.reg->host() + "/anon/app:v1");
  auto client = NewClient(FastOptions(s.dir));
  TestBlob blob = MakeBlob(10, 1);
  auto first = client->BlobExists(ref, blob.digest);
  REQUIRE(first.ok());
  CHECK_FALSE(*first);
  CHECK(s.tokens->token_requests() == 2);
  auto cached = client->BlobExists(ref, blob.digest);
  REQUIRE(cached.ok());
  CHECK(s.tokens->token_requests() == 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  auto renewed = client->BlobExists(ref, blob.digest);
  REQUIRE(renewed.ok());
  CHECK(s.tokens->token_requests() == 3);
}

}  // namespace
}  // namespace tide::registry
