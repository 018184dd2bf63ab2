// Mirrors from hosts.toml, redirects to object storage and servers that ignore Range.
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "registry/http_transport.h"
#include "registry/registry_client.h"
#include "test/integration/registry/registry_fixture.h"
#include "test/integration/registry/test_image.h"
#include "test/support/registry/test_http_server.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace tide::registry {
namespace {

using tide::testing::RegistryOptions;
using tide::testing::TempDir;
using tide::testing::TestHttpRequest;
using tide::testing::TestHttpResponse;
using tide::testing::TestHttpServer;
using tide::testing::WriteFile;
using namespace tide::registry::testing;

TEST_CASE_METHOD(RegistryFixture,
                 "A hosts.toml mirror serves pulls; pushes and dead mirrors fall through to the upstream") {
  RegistryClient& direct = *client;  // to the upstream registry
  RegistryOptions mo;
  mo.proxy_remote_url = registry->url();
  auto mirror = StartRegistryProcess(mo);
  std::string up = registry->host();
  Reference ref = Ref("mirrored/app:v1");
  PushedImage image = PushRandomImage(direct, ref, {300000}, 31);

  WriteFile(dir / "hosts" / up / "hosts.toml",
            "[host.\"http://" + mirror->host() + "\"]\n  capabilities = [\"pull\", \"resolve\"]\n");
  RegistryClientOptions options = FastOptions(dir);
  options.hosts_dir = (dir / "hosts").string();
  auto mirrored = NewClient(options);
  auto desc = mirrored->Resolve(ref);
  REQUIRE(desc.ok());
  CHECK(desc->digest == image.manifest_digest);
  auto blob = mirrored->FetchBlobBytes(ref, image.layers[0].digest);
  REQUIRE(blob.ok());
  CHECK(*blob == image.layers[0].bytes);
  auto range = mirrored->ReadBlobRange(ref, image.layers[0].digest, 4096, 8192);
  REQUIRE(range.ok());
  CHECK(*range == image.layers[0].bytes.substr(4096, 8192));
  // The mirror saw the requests, tagged with the upstream's name as containerd does.
  std::string mirror_log = tide::testing::ReadFile(mirror->log_path());
  CHECK(mirror_log.find("/v2/mirrored/app/blobs/" + image.layers[0].digest.str() + "?ns=" + up) !=
        std::string::npos);

  // The mirror cannot take pushes: they go to the upstream.
  TestBlob pushed = MakeBlob(2000, 32);
  auto p = mirrored->PushBlob(ref, pushed.digest, pushed.bytes);
  REQUIRE(p.ok());
  auto on_upstream = direct.BlobExists(ref, pushed.digest);
  REQUIRE(on_upstream.ok());
  CHECK(*on_upstream);

  // A mirror that is down costs a bounded retry, then the next host serves.
  WriteFile(dir / "hosts2" / up / "hosts.toml",
            "[host.\"http://127.0.0.1:1\"]\n  capabilities = [\"pull\"]\n");
  options.hosts_dir = (dir / "hosts2").string();
  auto with_dead = NewClient(options);
  auto fallback = with_dead->FetchBlobBytes(ref, image.layers[0].digest);
  REQUIRE(fallback.ok());
  CHECK(*fallback == image.layers[0].bytes);

  // A failing mirror is not asked again on every read while it cools down.
  std::atomic<int> sick_hits{0};
  auto sick = TestHttpServer::Start([&](const TestHttpRequest&) {
    ++sick_hits;
    return TestHttpResponse{503, {{"Retry-After", "0"}}, "overloaded"};
  });
  REQUIRE(sick.ok());
  WriteFile(dir / "hosts3" / up / "hosts.toml",
            "[host.\"http://" + (*sick)->host() + "\"]\n  capabilities = [\"pull\"]\n");
  options.hosts_dir = (dir / "hosts3").string();
  auto with_sick = NewClient(options);
  auto first = with_sick->ReadBlobRange(ref, image.layers[0].digest, 0, 100);
  REQUIRE(first.ok());
  int after_first = sick_hits.load();
  CHECK(after_first == options.retry.max_attempts);
  for (int i = 0; i < 5; ++i) {
    auto again = with_sick->ReadBlobRange(ref, image.layers[0].digest, 100 * i, 100);
    REQUIRE(again.ok());
    CHECK(*again == image.layers[0].bytes.substr(100 * i, 100));
  }
  CHECK(sick_hits.load() == after_first);
}

// Forwards a request to the registry, optionally without its Range header.
TestHttpResponse Forward(HttpTransport& transport, const std::string& registry_url,
                         const TestHttpRequest& req, bool drop_range) {
  HttpRequest out;
  out.method = req.method;
  out.url = registry_url + req.target;
  for (const auto& [name, value] : req.headers) {
    if (name == "content-length" || (drop_range && name == "range")) continue;
    out.headers.push_back(name + ": " + value);
  }
  out.body = req.body;
  auto resp = transport.Perform(out);
  if (!resp.ok()) return {502, {}, std::string(resp.status().message())};
  TestHttpResponse r{static_cast<int>(resp->status), {}, resp->body};
  for (const auto& [name, value] : resp->headers) {
    if (name == "transfer-encoding" || name == "connection" || name == "content-length") continue;
    r.headers.emplace_back(name, value);
  }
  if (req.method == "HEAD")
    r.headers.emplace_back("Content-Length", std::string(resp->Header("content-length")));
  return r;
}

TEST_CASE_METHOD(RegistryFixture, "A mirror with override_path and custom headers, as for a P2P agent") {
  std::string up = registry->host();
  Reference ref = Ref("p2p/app:v1");
  PushedImage image = PushRandomImage(*client, ref, {100000}, 81);

  // A stand-in for a P2P agent's registry endpoint under a custom API path.
  HttpTransport transport(TransportOptions{});
  std::mutex mu;
  int served = 0;
  int rejected = 0;
  std::string upstream_url = registry->url();
  auto agent = TestHttpServer::Start([&](const TestHttpRequest& req) -> TestHttpResponse {
    const std::string prefix = "/dragonfly/api/";
    bool ok = req.target.starts_with(prefix) && req.Header("x-mirror-token") == "abc" &&
              req.Query("ns") == std::vector<std::string>{up};
    std::lock_guard lock(mu);
    if (!ok) {
      ++rejected;
      return {400, {}, "bad mirror request"};
    }
    ++served;
    TestHttpRequest upstream_req = req;
    upstream_req.target = "/v2/" + req.target.substr(prefix.size());
    return Forward(transport, upstream_url, upstream_req, false);
  });
  REQUIRE(agent.ok());
  WriteFile(dir / "hosts" / up / "hosts.toml",
            "[host.\"http://" + (*agent)->host() +
                "/dragonfly/api\"]\n  capabilities = [\"pull\", \"resolve\"]\n  override_path = true\n"
                "  [host.\"http://" +
                (*agent)->host() + "/dragonfly/api\".header]\n    x-mirror-token = \"abc\"\n");
  RegistryClientOptions options = FastOptions(dir);
  options.hosts_dir = (dir / "hosts").string();
  auto via_agent = NewClient(options);
  auto manifest = via_agent->FetchManifest(ref);
  REQUIRE(manifest.ok());
  CHECK(manifest->bytes == image.manifest);
  auto range = via_agent->ReadBlobRange(ref, image.layers[0].digest, 500, 500);
  REQUIRE(range.ok());
  CHECK(*range == image.layers[0].bytes.substr(500, 500));
  std::lock_guard lock(mu);
  CHECK(served >= 2);
  CHECK(rejected == 0);
}

bool IsBlobGet(const TestHttpRequest& req) {
  return (req.method == "GET" || req.method == "HEAD") &&
         req.Path().find("/blobs/sha256:") != std::string::npos;
}

TEST_CASE("Blob reads follow redirects to storage without sending the registry's credentials") {
  TempDir dir;
  auto htpasswd = tide::testing::RunCommand({"htpasswd", "-Bbn", "alice", "wonderland"});
  REQUIRE(htpasswd.exit_code == 0);
  WriteFile(dir / "htpasswd", htpasswd.output);
  RegistryOptions ro;
  ro.htpasswd_path = (dir / "htpasswd").string();
  auto reg = StartRegistryProcess(ro);

  std::mutex mu;
  std::map<std::string, std::string> stored;  // digest -> bytes
  int storage_requests = 0;
  int credentials_leaked = 0;
  auto storage = TestHttpServer::Start([&](const TestHttpRequest& req) -> TestHttpResponse {
    std::lock_guard lock(mu);
    ++storage_requests;
    if (!req.Header("authorization").empty()) {
      ++credentials_leaked;
      return {403, {}, "credentials must not reach storage"};
    }
    std::string digest = req.Path().substr(req.Path().rfind('/') + 1);
    auto it = stored.find(digest);
    if (it == stored.end()) return {404, {}, ""};
    std::string range = req.Header("range");
    if (range.starts_with("bytes=")) {
      size_t dash = range.find('-');
      uint64_t a = std::stoull(range.substr(6, dash - 6));
      uint64_t b = dash + 1 < range.size() ? std::stoull(range.substr(dash + 1)) : it->second.size() - 1;
      return {206,
              {{"Content-Range", absl::StrCat("bytes ", a, "-", b, "/", it->second.size())}},
              it->second.substr(a, b - a + 1)};
    }
    return {200, {}, it->second};
  });
  REQUIRE(storage.ok());
  HttpTransport transport(TransportOptions{});
  std::string registry_url = reg->url();
  auto front = TestHttpServer::Start([&](const TestHttpRequest& req) -> TestHttpResponse {
    if (IsBlobGet(req) && !req.Header("authorization").empty()) {
      std::string digest = req.Path().substr(req.Path().rfind('/') + 1);
      return {307, {{"Location", (*storage)->url() + "/bucket/" + digest + "?X-Signature=abc"}}, ""};
    }
    return Forward(transport, registry_url, req, false);
  });
  REQUIRE(front.ok());

  RegistryClientOptions options = FastOptions(dir);
  options.credentials[(*front)->host()] = Credential{"alice", "wonderland", ""};
  auto client = NewClient(options);
  Reference ref = ParseRef((*front)->host() + "/redirected/app:v1");
  PushedImage image = PushRandomImage(*client, ref, {200000, 5000}, 41);
  {
    std::lock_guard lock(mu);
    for (const TestBlob& l : image.layers) stored[l.digest.str()] = l.bytes;
  }
  auto whole = client->FetchBlobBytes(ref, image.layers[0].digest);
  REQUIRE(whole.ok());
  CHECK(*whole == image.layers[0].bytes);
  auto range = client->ReadBlobRange(ref, image.layers[0].digest, 1000, 3000);
  REQUIRE(range.ok());
  CHECK(*range == image.layers[0].bytes.substr(1000, 3000));
  auto reader = client->OpenBlob(ref, image.layers[1].digest, 5000);
  REQUIRE(reader.ok());
  auto ranges = (*reader)->ReadRanges(std::vector<ByteRange>{{0, 10}, {4990, 10}, {100, 1000}});
  REQUIRE(ranges.ok());
  CHECK((*ranges)[2] == image.layers[1].bytes.substr(100, 1000));
  std::lock_guard lock(mu);
  CHECK(storage_requests >= 5);
  CHECK(credentials_leaked == 0);
}

TEST_CASE_METHOD(RegistryFixture, "A server that ignores Range is detected instead of read as a range") {
  HttpTransport transport(TransportOptions{});
  std::string registry_url = registry->url();
  auto front = TestHttpServer::Start(
      [&](const TestHttpRequest& req) { return Forward(transport, registry_url, req, IsBlobGet(req)); });
  REQUIRE(front.ok());
  Reference ref = ParseRef((*front)->host() + "/norange/app:v1");
  PushedImage image = PushRandomImage(*client, ref, {100000}, 51);
  const TestBlob& layer = image.layers[0];
  auto r = client->ReadBlobRange(ref, layer.digest, 100, 100);
  CHECK(r.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(r.status().message()).find("ignored the Range") != std::string::npos);
  auto all = client->ReadBlobRange(ref, layer.digest, 0, layer.bytes.size());  // the range is the blob
  REQUIRE(all.ok());
  CHECK(*all == layer.bytes);
  auto whole = client->FetchBlobBytes(ref, layer.digest);
  REQUIRE(whole.ok());
  CHECK(*whole == layer.bytes);
}

}  // namespace
}  // namespace tide::registry
