// Two tide nodes behind a caching mirror the operators already run, with real containerd,
// docker-registry and tide-snapshotter processes: nginx with slice + proxy_cache (the example
// config), and docker-registry in proxy (pull-through) mode. The second node's lazy reads come
// from the mirror, not from the origin.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "test/e2e/pull/pull_checks.h"
#include "test/e2e/pull/pull_env.h"
#include "test/support/nginx_process.h"

namespace tide::testing {
namespace {

// A node whose tide-snapshotter reads registries through the hosts.toml tree at `hosts_dir`.
PullEnvOptions NodeOptions(const std::filesystem::path& hosts_dir) {
  PullEnvOptions options;
  options.tide_config = "hosts_dir = \"" + hosts_dir.string() + "\"\n";
  return options;
}

void WriteMirror(const std::filesystem::path& hosts_dir, const std::string& origin_host,
                 const std::string& mirror_host) {
  WriteFile(hosts_dir / origin_host / "hosts.toml",
            "[host.\"http://" + mirror_host + "\"]\n  capabilities = [\"pull\"]\n");
}

// Lazy pull and a container that hashes a file of the image's data layer and busybox.
void PullAndRun(PullEnv& node, const std::string& ref, const std::string& want_sha, const std::string& name) {
  auto pulled = node.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "(3 lazy, 0 applied, 0 present)"));
  auto run = node.Ctr(
      {"run", "--rm", "--snapshotter", "tide", ref, name, "sha256sum", "/data/random.bin", "/bin/busybox"});
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  CHECK(absl::StrContains(run.output, want_sha + "  /data/random.bin"));
}

TEST_CASE("MIRROR: behind nginx slice + proxy_cache, a second node's lazy reads are served by the mirror",
          "[mirror][e2e]") {
  TempDir hosts("tide-mirror-hosts");
  PullEnv first(NodeOptions(hosts.path()));  // also the origin registry
  first.PushTide("app:v1");
  const std::string ref = first.Ref("app:v1");
  const std::string want = LayoutFileSha(first.Layout());
  auto nginx = NginxProcess::Start(
      std::filesystem::path(std::getenv("TIDE_SOURCE_DIR")) / "examples/cluster/nginx-mirror.conf",
      first.registry().url());
  INFO(nginx.status().ToString());
  REQUIRE(nginx.ok());
  WriteMirror(hosts.path(), first.registry().host(), (*nginx)->host());

  const int64_t before_first = first.RegistryBlobBytes();
  PullAndRun(first, ref, want, "first-node");
  const int64_t first_bytes = first.RegistryBlobBytes() - before_first;
  CHECK((*nginx)->WaitForBlobRequests("MISS", 1) >= 1);

  PullEnv second(NodeOptions(hosts.path()));
  const int64_t before_second = first.RegistryBlobBytes();
  PullAndRun(second, ref, want, "second-node");
  const int64_t second_bytes = first.RegistryBlobBytes() - before_second;
  const int hits = (*nginx)->WaitForBlobRequests("HIT", 1);
  INFO((*nginx)->AccessLog());
  INFO("origin blob bytes: first node " << first_bytes << ", second node " << second_bytes);
  CHECK(hits >= 1);
  // The second node's lazy reads were slices the first node had put in the mirror; the origin
  // sent it little more than the image config (containerd fetches that itself).
  RegistryImage image = FetchRegistryImage(first, ref);
  CHECK(second_bytes <= image.manifest.config.size + first_bytes / 10);
}

TEST_CASE("MIRROR: behind docker-registry in proxy mode, a second node's lazy reads are served by the mirror",
          "[mirror][e2e]") {
  TempDir hosts("tide-mirror-hosts");
  PullEnv first(NodeOptions(hosts.path()));
  first.PushTide("app:v1");
  const std::string ref = first.Ref("app:v1");
  const std::string want = LayoutFileSha(first.Layout());
  RegistryOptions proxy_options;
  proxy_options.proxy_remote_url = first.registry().url();
  auto proxy = RegistryProcess::Start(proxy_options);
  REQUIRE(proxy.ok());
  WriteMirror(hosts.path(), first.registry().host(), (*proxy)->host());
  RegistryImage image = FetchRegistryImage(first, ref);

  // A pull-through registry answers a range of a blob it does not hold yet with the whole blob
  // (while it starts storing it). tide refuses that, reads from the origin and leaves the mirror
  // alone for its cool-down, so the first node starts fine without help from the mirror.
  PullAndRun(first, ref, want, "first-node");
  // The mirror is filled the way a pull-through cache fills: whole-blob GETs through it (here
  // curl; in a pool, an ordinary pull or a warm on one node).
  for (const auto& layer : image.manifest.layers) {
    auto got = RunCommand({"curl", "-sf", "-o", "/dev/null",
                           "http://" + (*proxy)->host() + "/v2/app/blobs/" + layer.digest.str()});
    REQUIRE(got.exit_code == 0);
  }
  auto stored = [&] {
    for (const auto& layer : image.manifest.layers) {
      std::filesystem::path data = (*proxy)->dir() / "data/docker/registry/v2/blobs/sha256" /
                                   layer.digest.hex().substr(0, 2) / layer.digest.hex() / "data";
      if (!std::filesystem::exists(data)) return false;
    }
    return true;
  };
  for (int i = 0; i < 200 && !stored(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  INFO(ReadFile((*proxy)->log_path()));
  REQUIRE(stored());

  PullEnv second(NodeOptions(hosts.path()));
  const int64_t before_second = first.RegistryBlobBytes();
  PullAndRun(second, ref, want, "second-node");
  const int64_t second_bytes = first.RegistryBlobBytes() - before_second;
  INFO("origin blob bytes for the second node: " << second_bytes);
  CHECK(second_bytes <= image.manifest.config.size);
  // ... and its reads were ranges the mirror answered itself.
  CHECK(absl::StrContains(ReadFile((*proxy)->log_path()), "\" 206 "));
}

TEST_CASE(
    "MIRROR: a mirror that stalls, cuts bodies short or answers 503: containers still start from the origin",
    "[mirror][e2e]") {
  for (Fault fault : {Fault::kStall, Fault::kTruncate, Fault::k503}) {
    INFO("fault " << static_cast<int>(fault));
    TempDir hosts("tide-mirror-hosts");
    PullEnvOptions options = NodeOptions(hosts.path());
    options.tide_config += "mirror_stall_timeout = \"1s\"\n";
    PullEnv node(options);
    node.PushTide("app:v1");
    const std::string ref = node.Ref("app:v1");
    auto mirror = FaultProxy::Start(node.registry().port(), 1604);
    REQUIRE(mirror.ok());
    (*mirror)->SetFaultRate(1, {fault});
    WriteMirror(hosts.path(), node.registry().host(), (*mirror)->host());
    const auto began = std::chrono::steady_clock::now();
    PullAndRun(node, ref, LayoutFileSha(node.Layout()), "behind-bad-mirror");
    const auto took = std::chrono::steady_clock::now() - began;
    const FaultCounts counts = (*mirror)->counts();
    INFO("took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms; mirror saw "
                 << counts.connections << " connections");
    // The mirror was asked, failed, and was left alone while it cooled down: a few of its failures
    // in all, not one per read, and nowhere near read_timeout (30 s) per read.
    CHECK(counts.connections >= 1);
    CHECK(counts.connections <= 8);
    CHECK(took < std::chrono::seconds(30));
  }
}

}  // namespace
}  // namespace tide::testing
