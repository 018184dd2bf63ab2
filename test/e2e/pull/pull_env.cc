#include "test/e2e/pull/pull_env.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "test/support/free_port.h"
#include "test/support/registry/pki.h"

namespace tide::testing {

std::string TidectlBinary() { return std::string(std::getenv("TIDE_BINARY_DIR")) + "/tidectl/tidectl"; }

PullEnv::PullEnv(const PullEnvOptions& options) {
  RegistryOptions registry_options;
  if (!options.registry_user.empty()) {
    std::string htpasswd = (dir_.path() / "htpasswd").string();
    auto made = RunCommand({"htpasswd", "-Bbc", htpasswd, options.registry_user, options.registry_password});
    INFO(made.output);
    REQUIRE(made.exit_code == 0);
    registry_options.htpasswd_path = htpasswd;
    registry_creds_ = options.registry_user + ":" + options.registry_password;
  }
  if (options.token_auth) {
    auto pki = MakeTestPki(dir_.path() / "pki");
    REQUIRE(pki.ok());
    TokenServerOptions token_options;
    token_options.signing_key_path = pki->signing_key.string();
    token_options.signing_cert_path = pki->signing_cert.string();
    auto tokens = TokenServer::Start(token_options);
    REQUIRE(tokens.ok());
    token_server_ = std::move(*tokens);
    registry_options.token_realm = token_server_->realm();
    registry_options.token_service = token_options.service;
    registry_options.token_issuer = token_options.issuer;
    registry_options.token_rootcert_path = pki->signing_cert.string();
  }
  auto registry = RegistryProcess::Start(registry_options);
  REQUIRE(registry.ok());
  registry_ = std::move(*registry);
  if (options.fault_proxy) {
    auto proxy = FaultProxy::Start(registry_->port(), 20261204);
    REQUIRE(proxy.ok());
    fault_proxy_ = std::move(*proxy);
  }
  if (options.cache_disk_bytes > 0) {
    cache_disk_ = tide_root() / "cache";
    std::filesystem::create_directories(cache_disk_);
    auto mounted = RunCommand({"mount", "-t", "tmpfs", "-o", absl::StrCat("size=", options.cache_disk_bytes),
                               "tide-test-cache", cache_disk_.string()});
    INFO(mounted.output);
    REQUIRE(mounted.exit_code == 0);
  }

  std::filesystem::create_directories(layers_dir());
  TideSnapshotterOptions tide_options;
  tide_options.root = tide_root();
  tide_options.socket = (dir_.path() / "tide.sock").string();
  tide_options.log_path = (dir_.path() / "tide-snapshotter.log").string();
  if (options.bind_mounter) {
    tide_options.binary =
        std::string(std::getenv("TIDE_BINARY_DIR")) + "/test/e2e/snapshotter/tide-snapshotter-bindmounter";
    tide_options.env = {"TIDE_TEST_LAYERS_DIR=" + layers_dir().string()};
  }
  std::string config = options.tide_config;
  if (options.metrics) {
    metrics_port_ = FreeLoopbackPort();
    absl::StrAppend(&config, "\nmetrics_address = \"127.0.0.1:", metrics_port_, "\"\n");
  }
  if (!config.empty()) {
    tide_options.config = (dir_.path() / "tide.toml").string();
    WriteFile(tide_options.config, config);
  }
  tide_options_ = tide_options;
  if (!options.seed_profiles.empty()) {
    std::filesystem::create_directories(tide_root());
    std::filesystem::copy(options.seed_profiles, tide_root() / "profiles",
                          std::filesystem::copy_options::recursive);
  }
  auto tide = TideSnapshotterProcess::Start(tide_options);
  REQUIRE(tide.ok());
  tide_ = std::move(*tide);

  ContainerdOptions containerd_options;
  containerd_options.proxy_snapshotters = {{"tide", tide_options.socket}};
  if (options.enable_cri) {
    // CRI pulls through hosts.toml (plain http to the test registry) into tide, with the
    // cri.* labels on (disable_snapshot_annotations = false). CNI is never used by image calls.
    std::filesystem::path hosts = std::filesystem::path(cri_hosts_dir()) / registry_->host() / "hosts.toml";
    WriteFile(hosts, absl::StrCat("server = \"", registry_->url(), "\"\n[host.\"", registry_->url(),
                                  "\"]\n  capabilities = [\"pull\", \"resolve\"]\n"));
    containerd_options.enable_cri = true;
    containerd_options.hosts_dir = cri_hosts_dir();
    containerd_options.extra_config =
        absl::StrCat("[plugins.\"io.containerd.grpc.v1.cri\"]\n", "  sandbox_image = \"", registry_->host(),
                     "/pause:none\"\n", "  [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n",
                     "    snapshotter = \"tide\"\n", "    disable_snapshot_annotations = false\n",
                     "  [plugins.\"io.containerd.grpc.v1.cri\".registry]\n", "    config_path = \"",
                     cri_hosts_dir(), "\"\n", "  [plugins.\"io.containerd.grpc.v1.cri\".cni]\n",
                     "    bin_dir = \"", (dir_.path() / "cni-bin").string(), "\"\n", "    conf_dir = \"",
                     (dir_.path() / "cni-conf").string(), "\"\n");
  }
  auto containerd = ContainerdProcess::Start(containerd_options);
  REQUIRE(containerd.ok());
  containerd_ = std::move(*containerd);
}

PullEnv::~PullEnv() {
  // containerd first (it holds mounts on tide's layers), then the snapshotter, then the registry.
  containerd_.reset();
  tide_.reset();
  fault_proxy_.reset();
  registry_.reset();
  token_server_.reset();
  if (!cache_disk_.empty()) RunCommand({"umount", "-l", cache_disk_.string()});
}

int PullEnv::tide_pid() const { return tide_ ? tide_->pid() : 0; }

void PullEnv::KillAndRestartSnapshotter(const std::function<void()>& while_down) {
  tide_->Kill();
  tide_.reset();
  if (while_down) while_down();
  auto tide = TideSnapshotterProcess::Start(tide_options_);
  INFO(tide.status().ToString());
  REQUIRE(tide.ok());
  tide_ = std::move(*tide);
}

void PullEnv::StopAndRestartSnapshotter(const std::string& binary) {
  tide_->Stop();
  tide_.reset();
  if (!binary.empty()) tide_options_.binary = binary;
  auto tide = TideSnapshotterProcess::Start(tide_options_);
  INFO(tide.status().ToString());
  REQUIRE(tide.ok());
  tide_ = std::move(*tide);
}

std::string PullEnv::Ref(const std::string& repo_tag) const {
  return (fault_proxy_ ? fault_proxy_->host() : registry_->host()) + "/" + repo_tag;
}

std::filesystem::path PullEnv::Layout() {
  if (layout_.empty()) {
    std::filesystem::path layout = dir_.path() / "layout";
    std::string script =
        std::string(std::getenv("TIDE_SOURCE_DIR")) + "/test/support/images/build-busybox-image.sh";
    auto built = RunCommand({"bash", script, layout.string(), "v1"});
    INFO(built.output);
    REQUIRE(built.exit_code == 0);
    layout_ = layout;
  }
  return layout_;
}

void PullEnv::PushPlain(const std::string& repo_tag) {
  std::vector<std::string> argv = {"skopeo", "copy", "--dest-tls-verify=false"};
  if (!registry_creds_.empty()) argv.push_back("--dest-creds=" + registry_creds_);
  argv.push_back("oci:" + Layout().string() + ":v1");
  argv.push_back("docker://" + Ref(repo_tag));
  auto pushed = RunCommand(argv);
  INFO(pushed.output);
  REQUIRE(pushed.exit_code == 0);
}

void PullEnv::PushTide(const std::string& repo_tag) {
  auto converted = RunCommand({TidectlBinary(), "convert", "-q", "--plain-http",
                               "oci:" + Layout().string() + ":v1", "docker://" + Ref(repo_tag)});
  INFO(converted.output);
  REQUIRE(converted.exit_code == 0);
}

void PullEnv::PushOtherTide(const std::string& repo_tag) {
  static int built = 0;
  std::filesystem::path layout = dir_.path() / ("layout-" + std::to_string(++built));
  std::string script =
      std::string(std::getenv("TIDE_SOURCE_DIR")) + "/test/support/images/build-busybox-image.sh";
  auto made = RunCommand({"bash", script, layout.string(), "v1"});
  INFO(made.output);
  REQUIRE(made.exit_code == 0);
  auto converted = RunCommand({TidectlBinary(), "convert", "-q", "--plain-http",
                               "oci:" + layout.string() + ":v1", "docker://" + Ref(repo_tag)});
  INFO(converted.output);
  REQUIRE(converted.exit_code == 0);
}

CommandResult PullEnv::Pull(const std::string& ref, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {TidectlBinary(), "pull", "--address", containerd_->address(),
                                   "--plain-http"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(ref);
  return RunCommand(argv, std::chrono::seconds(300));
}

CommandResult PullEnv::Ctr(const std::vector<std::string>& args) { return containerd_->Ctr(args); }

void PullEnv::WaitForContainerdToReachTide() {
  // A probe snapshot (ordinary, no labels) reaches tide whether or not containerd has snapshots in it;
  // `snapshots usage` does not when it has none.
  for (int i = 0; i < 60 && Ctr({"snapshots", "--snapshotter", "tide", "prepare", "probe"}).exit_code != 0;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  REQUIRE(Ctr({"snapshots", "--snapshotter", "tide", "rm", "probe"}).exit_code == 0);
}

int64_t PullEnv::RegistryBlobBytes() const {
  std::ifstream log(registry_->log_path());
  static const std::regex kBlobGet(
      R"re("GET /v2/\S+/blobs/sha256:[0-9a-f]+(\?\S*)? HTTP/[0-9.]+" (200|206) (\d+))re");
  int64_t total = 0;
  std::string line;
  while (std::getline(log, line)) {
    std::smatch m;
    if (std::regex_search(line, m, kBlobGet)) total += std::stoll(m[3].str());
  }
  return total;
}

std::map<std::string, int> PullEnv::RegistryGets(const std::string& kind) const {
  std::ifstream log(registry_->log_path());
  const std::regex get("\"GET /v2/\\S+/" + kind + R"re(/([^?\s]+)(\?\S*)? HTTP/[0-9.]+" (200|206))re");
  std::map<std::string, int> gets;
  std::string line;
  while (std::getline(log, line)) {
    std::smatch m;
    if (std::regex_search(line, m, get)) ++gets[m[1].str()];
  }
  return gets;
}

std::vector<std::string> PullEnv::MountsUnderEnv() const {
  std::ifstream mounts("/proc/mounts");
  std::vector<std::string> found;
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string source, target;
    fields >> source >> target;
    if (target.starts_with(dir_.path().string()) && target != cache_disk_.string()) found.push_back(line);
  }
  return found;
}

}  // namespace tide::testing
