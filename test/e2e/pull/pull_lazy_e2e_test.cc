// Laziness with the real tide-snapshotter: tide layers are served through its FUSE mounts
// (snapshotter/fuse_remote_layer_mounter.cc), not unpacked. Everything that does not depend on laziness is
// covered by pull_e2e_tests / cri_pull_e2e_tests, and the client side of the remote path by
// pull_protocol_e2e_tests (bind test mounter).
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "containerd_client/containerd_client.h"
#include "test/e2e/pull/cri_client.h"
#include "test/e2e/pull/nerdctl_style_client.h"
#include "test/e2e/pull/pull_checks.h"
#include "test/e2e/pull/pull_env.h"

namespace tide::testing {
namespace {

int64_t ImageSize(const RegistryImage& image) {
  int64_t total = image.manifest.config.size;
  for (const auto& layer : image.manifest.layers) total += layer.size;
  return total;
}

TEST_CASE("LAZY: tidectl pull mounts tide layers remotely; ctr run reads far less than the image",
          "[pull][lazy]") {
  PullEnvOptions options;
  options.metrics = true;
  PullEnv env(options);
  env.PushTide("busybox-tide:v1");
  const std::string ref = env.Ref("busybox-tide:v1");
  RegistryImage image = FetchRegistryImage(env, ref);
  const int64_t before = env.RegistryBlobBytes();

  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "(3 lazy, 0 applied, 0 present)"));
  // tidectl itself only fetched the config; the snapshotter read each layer's index.
  const int64_t after_pull = env.RegistryBlobBytes() - before;
  CHECK(after_pull < ImageSize(image) / 10);
  auto info = env.Ctr({"snapshots", "--snapshotter", "tide", "info", image.chain_ids.back().str()});
  CHECK(absl::StrContains(info.output, "containerd.io/snapshot/remote"));

  auto run = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "pull-lazy-run"});
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  CHECK(run.output == "hello from tide\n");
  // The run needs busybox and hello.txt, not the 3 MB of /data/random.bin.
  const int64_t after_run = env.RegistryBlobBytes() - before;
  INFO("registry served " << after_run << " blob bytes of an image of " << ImageSize(image));
  CHECK(after_run < ImageSize(image) / 2);
  // The daemon's metrics agree: three layers mounted, and what the run fetched on demand.
  auto scraped =
      RunCommand({"curl", "-sf", absl::StrCat("http://127.0.0.1:", env.metrics_port(), "/metrics")});
  INFO(scraped.output);
  REQUIRE(scraped.exit_code == 0);
  CHECK(absl::StrContains(scraped.output, "\ntide_layer_mounts 3\n"));
  CHECK(absl::StrContains(scraped.output, "\ntide_remote_snapshots 3\n"));
  CHECK(absl::StrContains(scraped.output, "kind=\"on_demand\"} "));
  CHECK(absl::StrContains(scraped.output, "# TYPE tide_fuse_read_duration_seconds histogram\n"));
  // The first layer's Prepare fetched the other two layers' indexes ahead.
  std::smatch ahead;
  REQUIRE(std::regex_search(scraped.output, ahead, std::regex("\ntide_index_prefetched_total ([0-9]+)\n")));
  CHECK(std::stoi(ahead[1].str()) >= 1);
  // Every series the shipped Grafana dashboard queries is one the daemon serves.
  std::ifstream dashboard_file(std::string(std::getenv("TIDE_SOURCE_DIR")) + "/examples/grafana/tide.json");
  std::string dashboard((std::istreambuf_iterator<char>(dashboard_file)), std::istreambuf_iterator<char>());
  REQUIRE_FALSE(dashboard.empty());
  std::regex metric_name("tide_[a-z_]+");
  for (std::sregex_iterator it(dashboard.begin(), dashboard.end(), metric_name), end; it != end; ++it) {
    if (it->str() == "tide_snapshotter") continue;  // the dashboard's own uid
    INFO(it->str());
    CHECK(absl::StrContains(scraped.output, "\n" + it->str()));
  }
  // tidectl status asks the daemon: one image, its three layers, what the run fetched cached.
  const std::string address = absl::StrCat("127.0.0.1:", env.metrics_port());
  auto status = RunCommand({TidectlBinary(), "status", "--address", address});
  INFO(status.output);
  REQUIRE(status.exit_code == 0);
  CHECK(absl::StrContains(status.output, "image " + env.Ref("busybox-tide")));
  CHECK(absl::StrContains(status.output, "LAYER"));
  for (const auto& layer : image.manifest.layers) {
    CHECK(absl::StrContains(status.output, layer.digest.str().substr(0, 19)));
  }
  auto as_json = RunCommand({TidectlBinary(), "status", "--address", address, "--json"});
  REQUIRE(as_json.exit_code == 0);
  auto doc = nlohmann::json::parse(as_json.output, nullptr, false);
  REQUIRE(doc.is_object());
  REQUIRE(doc["images"].size() == 1);
  int64_t cached = 0;
  for (const auto& layer : doc["images"][0]["layers"]) {
    CHECK(layer["bytes_cached"].get<int64_t>() <= layer["bytes"].get<int64_t>());
    CHECK(layer["read_errors"].get<int64_t>() == 0);
    cached += layer["bytes_cached"].get<int64_t>();
  }
  CHECK(doc["images"][0]["layers"].size() == 3);
  CHECK(cached > 0);
  CheckRemovedByGc(env, ref);  // includes: no FUSE mount left under the snapshotter's root
}

TEST_CASE("LAZY: after kill -9 of tide-snapshotter a lazily pulled image runs again without a re-pull",
          "[pull][lazy][restart]") {
  PullEnv env;
  env.PushTide("busybox-tide:v1");
  const std::string ref = env.Ref("busybox-tide:v1");
  RegistryImage image = FetchRegistryImage(env, ref);
  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  auto first = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "pull-restart-1"});
  REQUIRE(first.output == "hello from tide\n");

  env.KillAndRestartSnapshotter();
  const int64_t before = env.RegistryBlobBytes();
  // containerd reconnects to the proxy within a few seconds of the restart.
  CommandResult again;
  for (int attempt = 0; attempt < 10; ++attempt) {
    again =
        env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "pull-restart-" + std::to_string(attempt + 2),
                 "cat", "/data/hello.txt", "/data/third.txt"});
    if (again.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  INFO(again.output);
  REQUIRE(again.exit_code == 0);
  CHECK(again.output == "hello from tide\nthird layer\n");
  // The restored mounts read from the warm chunk cache: hello.txt and busybox were read before.
  CHECK(env.RegistryBlobBytes() - before < ImageSize(image) / 10);
  CHECK(env.Ctr({"images", "ls", "-q"}).output == ref + "\n");
  CheckRemovedByGc(env, ref);
}

TEST_CASE("LAZY: a nerdctl-style unpack (no cri.* labels) is taken remotely by tide",
          "[pull][lazy][nerdctl]") {
  PullEnv env;
  env.PushTide("busybox-tide:v1");
  std::vector<NerdctlLayerResult> layers = NerdctlStyleUnpack(env, env.Ref("busybox-tide:v1"));
  REQUIRE(layers.size() == 3);
  for (const NerdctlLayerResult& layer : layers) {
    INFO(layer.prepare.ToString());
    CHECK(absl::IsAlreadyExists(layer.prepare));
    CHECK(layer.remote_label);
    CHECK_FALSE(layer.cri_labels);
  }
}

TEST_CASE("LAZY: CRI PullImage mounts tide layers remotely", "[pull][lazy][cri]") {
  PullEnvOptions options;
  options.enable_cri = true;
  PullEnv env(options);
  env.PushTide("busybox-tide:v1");
  const std::string ref = env.Ref("busybox-tide:v1");
  RegistryImage image = FetchRegistryImage(env, ref);
  const int64_t before = env.RegistryBlobBytes();

  auto cri = CriImageClient::Connect(env.containerd().address());
  REQUIRE(cri.ok());
  REQUIRE((*cri)->PullImage(ref).ok());
  CHECK(env.RegistryBlobBytes() - before < ImageSize(image) / 10);
  CheckRemoteSnapshots(env, image, "k8s.io");
  auto client = containerd_client::ContainerdClient::Connect(env.containerd().address(), "k8s.io");
  REQUIRE(client.ok());
  // containerd's unpacker never downloads a bottom run of remote layers.
  for (const auto& layer : image.manifest.layers)
    CHECK(absl::IsNotFound((*client)->ContentInfo(layer.digest.str()).status()));
}

// Walks a mounted rootfs from the host: every entry's type, mode, owners, size, mtime, link target,
// content hash and xattrs (values in hex), so two mounts of one image can be compared whole.
constexpr char kHostListing[] = R"(
import hashlib, os, stat, sys
root = sys.argv[1]
rows = []
for top, dirs, files in os.walk(root):
    for name in dirs + files:
        p = os.path.join(top, name)
        st = os.lstat(p)
        row = [p[len(root):], oct(st.st_mode), str(st.st_uid), str(st.st_gid), str(st.st_mtime_ns)]
        if stat.S_ISLNK(st.st_mode):
            row.append('-> ' + os.readlink(p))
        elif stat.S_ISREG(st.st_mode):
            with open(p, 'rb') as f:
                row.append(hashlib.sha256(f.read()).hexdigest())
        try:
            names = os.listxattr(p, follow_symlinks=False)
        except OSError:
            names = []
        for k in sorted(names):
            row.append(k + '=' + os.getxattr(p, k, follow_symlinks=False).hex())
        rows.append('|'.join(row))
print('\n'.join(sorted(rows)))
)";

// The rootfs containerd would mount for container `id` on `snapshotter`, mounted on the host by the
// command `ctr snapshots mounts` prints; unmounted when done.
struct HostRootfs {
  std::filesystem::path target;
  std::string command;
  HostRootfs(PullEnv& env, const std::string& snapshotter, const std::string& id)
      : target(env.dir() / ("rootfs-" + id)) {
    std::filesystem::create_directories(target);
    auto mounts = env.Ctr({"snapshots", "--snapshotter", snapshotter, "mounts", target.string(), id});
    INFO(mounts.output);
    REQUIRE(mounts.exit_code == 0);
    command = mounts.output;
    auto mounted = RunCommand({"sh", "-c", command});
    INFO(mounted.output);
    REQUIRE(mounted.exit_code == 0);
  }
  ~HostRootfs() { RunCommand({"umount", "-l", target.string()}); }
  std::string Listing() const {
    auto listed = RunCommand({"python3", "-c", kHostListing, target.string()});
    REQUIRE(listed.exit_code == 0);
    return listed.output;
  }
};

TEST_CASE("LAZY: a tide layer's xattrs and opaque dirs reach the rootfs through a local shadow",
          "[pull][lazy]") {
  PullEnv env;
  const std::string ref = env.Ref("edge-tide:v1");
  auto converted = RunCommand({TidectlBinary(), "convert", "-q", "--plain-http",
                               std::string("oci:") + std::getenv("TIDE_BINARY_DIR") + "/test-images/edge:v1",
                               "docker://" + ref});
  INFO(converted.output);
  REQUIRE(converted.exit_code == 0);
  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "lazy"));
  REQUIRE(env.Ctr({"container", "create", "--snapshotter", "tide", ref, "xs-tide"}).exit_code == 0);
  auto ordinary = env.Ctr({"images", "pull", "--plain-http", "--snapshotter", "overlayfs", ref});
  INFO(ordinary.output);
  REQUIRE(ordinary.exit_code == 0);
  REQUIRE(env.Ctr({"container", "create", "--snapshotter", "overlayfs", ref, "xs-overlay"}).exit_code == 0);

  std::string lazy, unpacked;
  {
    HostRootfs tide(env, "tide", "xs-tide");
    INFO(tide.command);
    INFO(ReadFile(env.tide_log_path()));
    // The edge layer (user.* xattrs, a file capability, an opaque dir) is stacked with its shadow.
    CHECK(absl::StrContains(tide.command, "/xattr-shadow/above:"));
    CHECK(absl::StrContains(tide.command, "/xattr-shadow/below"));
    lazy = tide.Listing();
  }
  {
    HostRootfs overlay(env, "overlayfs", "xs-overlay");
    unpacked = overlay.Listing();
  }
  CHECK(absl::StrContains(unpacked, "/edge/cap-binary|"));
  CHECK(absl::StrContains(unpacked, "security.capability="));
  CHECK(absl::StrContains(unpacked, "user.dir="));
  CHECK(lazy == unpacked);
  env.Ctr({"container", "rm", "xs-tide", "xs-overlay"});
}

}  // namespace
}  // namespace tide::testing
