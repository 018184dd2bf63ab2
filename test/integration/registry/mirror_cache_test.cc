// Real caching mirrors in front of the registry: nginx with slice + proxy_cache, running the
// example config operators are given (examples/cluster/nginx-mirror.conf), with and without token
// auth at the origin; and a mirror that tries to collect the origin's credentials.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "absl/strings/str_split.h"
#include "registry/registry_client.h"
#include "test/integration/registry/registry_fixture.h"
#include "test/integration/registry/test_image.h"
#include "test/support/nginx_process.h"
#include "test/support/registry/test_http_server.h"
#include "test/support/temp_dir.h"

namespace tide::registry {
namespace {

using tide::testing::NginxProcess;
using tide::testing::TempDir;
using tide::testing::TestHttpRequest;
using tide::testing::TestHttpResponse;
using tide::testing::TestHttpServer;
using tide::testing::WriteFile;
using namespace tide::registry::testing;

std::unique_ptr<NginxProcess> StartNginxMirror(const std::string& upstream_url) {
  const char* source = std::getenv("TIDE_SOURCE_DIR");
  REQUIRE(source != nullptr);
  auto nginx =
      NginxProcess::Start(std::filesystem::path(source) / "examples/cluster/nginx-mirror.conf", upstream_url);
  INFO(nginx.status().ToString());
  REQUIRE(nginx.ok());
  return std::move(*nginx);
}

// GETs of this blob that reached docker-registry, from its access log.
int OriginBlobGets(const tide::testing::RegistryProcess& origin, const Digest& digest) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(tide::testing::ReadFile(origin.log_path()), '\n')) {
    if (line.find("\"GET /v2/") != absl::string_view::npos &&
        line.find("/blobs/" + digest.str()) != absl::string_view::npos) {
      ++n;
    }
  }
  return n;
}

// OriginBlobGets once the origin's log has stopped growing. A client has its bytes before nginx
// finishes the request and before docker-registry logs the slice it served, so a count taken right
// after a read can miss the last fetch.
int SettledOriginBlobGets(const tide::testing::RegistryProcess& origin, const Digest& digest) {
  constexpr int kQuietPolls = 5;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int n = OriginBlobGets(origin, digest);
  for (int quiet = 0; quiet < kQuietPolls && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const int now = OriginBlobGets(origin, digest);
    quiet = now == n ? quiet + 1 : 0;
    n = now;
  }
  return n;
}

// Hosts.toml for `origin_host` naming `mirror_host` as a pull mirror.
RegistryClientOptions MirroredOptions(const TempDir& dir, const std::string& origin_host,
                                      const std::string& mirror_host) {
  WriteFile(dir / "hosts" / origin_host / "hosts.toml",
            "[host.\"http://" + mirror_host + "\"]\n  capabilities = [\"pull\"]\n");
  RegistryClientOptions options = FastOptions(dir);
  options.hosts_dir = (dir / "hosts").string();
  return options;
}

TEST_CASE_METHOD(RegistryFixture,
                 "nginx slice + proxy_cache as a mirror: a second node's range reads are hits") {
  Reference ref = Ref("cached/app:v1");
  PushedImage image = PushRandomImage(*client, ref, {(4 << 20) + 12345}, 81);
  const TestBlob& blob = image.layers[0];
  auto nginx = StartNginxMirror(registry->url());
  RegistryClientOptions options = MirroredOptions(dir, registry->host(), nginx->host());
  // Ranges as lazy reads make them: inside one slice, across a slice boundary, and the blob's tail.
  const std::vector<ByteRange> ranges = {
      {1000, 5000}, {(1 << 20) - 300, 600000}, {3 << 20, blob.bytes.size() - (3 << 20)}};
  auto read_all = [&](RegistryClient& node) {
    for (const ByteRange& r : ranges) {
      auto got = node.ReadBlobRange(ref, blob.digest, r.offset, r.length);
      INFO(got.status().ToString());
      REQUIRE(got.ok());
      CHECK(*got == blob.bytes.substr(r.offset, r.length));
    }
  };
  auto first_node = NewClient(options);
  read_all(*first_node);
  CHECK(nginx->WaitForBlobRequests("MISS", static_cast<int>(ranges.size())) >=
        static_cast<int>(ranges.size()));
  const int origin_after_first = SettledOriginBlobGets(*registry, blob.digest);
  CHECK(origin_after_first >= 1);

  auto second_node = NewClient(options);
  read_all(*second_node);
  const int hits = nginx->WaitForBlobRequests("HIT", static_cast<int>(ranges.size()));
  INFO(nginx->AccessLog());
  // Every slice the second node needed was in the mirror's cache: the origin saw nothing new.
  CHECK(SettledOriginBlobGets(*registry, blob.digest) == origin_after_first);
  CHECK(hits >= static_cast<int>(ranges.size()));

  // Whole-blob reads and HEAD go through the same location and stay exact.
  auto whole = second_node->FetchBlobBytes(ref, blob.digest);
  REQUIRE(whole.ok());
  CHECK(*whole == blob.bytes);
  auto size = second_node->StatBlob(ref, blob.digest);
  REQUIRE(size.ok());
  CHECK(*size == static_cast<int64_t>(blob.bytes.size()));
}

// A docker-registry that wants tokens from a token server that knows only bob, with one image.
struct PrivateOrigin {
  TokenSetup s;
  std::string origin;
  Reference ref;
  PushedImage image;
  Credential bob{.username = "bob", .password = "builder", .identity_token = ""};

  explicit PrivateOrigin(size_t layer_size, uint32_t seed) {
    tide::testing::TokenServerOptions to;
    to.username = bob.username;
    to.password = bob.password;
    StartTokenRegistry(s, to);
    origin = s.reg->host();
    ref = ParseRef(origin + "/private/app:v1");
    RegistryClientOptions direct_options = FastOptions(s.dir);
    direct_options.credentials[origin] = bob;
    image = PushRandomImage(*NewClient(direct_options), ref, {layer_size}, seed);
  }
};

TEST_CASE("the origin's token flow works through an nginx mirror; the mirror never sees a password") {
  PrivateOrigin p((2 << 20) + 77, 82);
  auto& [s, origin, ref, image, bob] = p;
  const TestBlob& blob = image.layers[0];
  auto nginx = StartNginxMirror(s.reg->url());

  // The node has credentials for the origin only, none for the mirror.
  RegistryClientOptions options = MirroredOptions(s.dir, origin, nginx->host());
  options.credentials[origin] = bob;
  for (int node = 0; node < 2; ++node) {
    auto client = NewClient(options);
    auto got = client->ReadBlobRange(ref, blob.digest, 4096, 1 << 20);
    INFO(got.status().ToString());
    REQUIRE(got.ok());
    CHECK(*got == blob.bytes.substr(4096, 1 << 20));
  }
  // Served through the mirror (not by failing over to the origin), the second time from its cache.
  CHECK(nginx->WaitForBlobRequests("MISS", 1) >= 1);
  CHECK(nginx->WaitForBlobRequests("HIT", 1) >= 1);
  const std::string log = nginx->AccessLog();
  INFO(log);
  CHECK(log.find("status=206 cache=HIT bytes=1048576 auth=bearer") != std::string::npos);
  // The mirror saw a scoped token, never the password.
  CHECK(log.find("auth=basic") == std::string::npos);
  CHECK(s.tokens->refused() == 0);

  // A cached slice is not a way around the origin's access control: a node without credentials
  // is refused by the mirror too (the example config checks each request at the origin).
  RegistryClientOptions anonymous = MirroredOptions(s.dir, origin, nginx->host());
  auto stranger = NewClient(anonymous);
  auto refused = stranger->ReadBlobRange(ref, blob.digest, 4096, 1 << 20);
  CHECK(refused.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(nginx->AccessLog().find("status=206 cache=HIT bytes=1048576 auth=none") == std::string::npos);
}

TEST_CASE("a mirror that names its own token realm never gets the origin's credentials") {
  PrivateOrigin p(300000, 83);
  auto& [s, origin, ref, image, bob] = p;

  // Challenges like the origin, same service name, but with a realm of its own.
  std::mutex mu;
  std::vector<std::string> authorizations;
  std::string realm;
  auto thief = TestHttpServer::Start([&](const TestHttpRequest& req) {
    std::lock_guard lock(mu);
    authorizations.push_back(req.Header("authorization"));
    if (req.Path() == "/token") return TestHttpResponse{401, {}, "{\"details\":\"no\"}"};
    return TestHttpResponse{401,
                            {{"WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"" +
                                                      p.s.tokens->options().service + "\""}},
                            "{}"};
  });
  REQUIRE(thief.ok());
  realm = (*thief)->url() + "/token";
  RegistryClientOptions options = MirroredOptions(s.dir, origin, (*thief)->host());
  options.credentials[origin] = bob;
  auto client = NewClient(options);
  auto got = client->ReadBlobRange(ref, image.layers[0].digest, 100, 1000);
  INFO(got.status().ToString());
  REQUIRE(got.ok());  // from the origin, after the mirror refused
  CHECK(*got == image.layers[0].bytes.substr(100, 1000));
  std::lock_guard lock(mu);
  CHECK_FALSE(authorizations.empty());
  for (const std::string& a : authorizations) CHECK(a.find("Basic") == std::string::npos);
}

}  // namespace
}  // namespace tide::registry
