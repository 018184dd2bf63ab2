#ifndef TIDE_TEST_E2E_PULL_PULL_ENV_H_
#define TIDE_TEST_E2E_PULL_PULL_ENV_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test/support/containerd_process.h"
#include "test/support/registry/fault_proxy.h"
#include "test/support/registry/token_server.h"
#include "test/support/registry_process.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"
#include "test/unit/snapshotter/tide_snapshotter_process.h"

namespace tide::testing {

struct PullEnvOptions {
  // tide-snapshotter-bindmounter serving "remote" layers from <dir>/layers/<index-digest hex>
  // instead of the real daemon (protocol tests that must not depend on FUSE).
  bool bind_mounter = false;
  bool enable_cri = false;
  std::string registry_user;  // with registry_password: htpasswd auth on the registry
  std::string registry_password;
  // Copied to <tide root>/profiles before the snapshotter first starts: a node that kept learned
  // profiles from an earlier life but lost its chunk cache.
  std::filesystem::path seed_profiles;
  // tide-snapshotter serves /metrics on 127.0.0.1:<metrics_port()>.
  bool metrics = false;
  // docker-registry takes bearer tokens from a TokenServer (anonymous, all actions granted).
  bool token_auth = false;
  // A FaultProxy in front of the registry (clean until told otherwise); Ref() names the proxy, so
  // containerd, tidectl and tide-snapshotter all reach the registry through it.
  bool fault_proxy = false;
  // > 0: the chunk cache (<tide root>/cache) is a tmpfs of this many bytes, unmounted at the end.
  uint64_t cache_disk_bytes = 0;
  // More lines for tide-snapshotter's config file.
  std::string tide_config;
};

// A private docker-registry, a tide-snapshotter and a containerd with tide as proxy snapshotter,
// all under one temp dir and all stopped (children first) when the env goes away.
class PullEnv {
 public:
  explicit PullEnv(const PullEnvOptions& options = {});
  ~PullEnv();

  const std::filesystem::path& dir() const { return dir_.path(); }
  RegistryProcess& registry() { return *registry_; }
  ContainerdProcess& containerd() { return *containerd_; }
  std::filesystem::path tide_root() const { return dir_.path() / "tide-root"; }
  std::filesystem::path layers_dir() const { return dir_.path() / "layers"; }
  std::string cri_hosts_dir() const { return (dir_.path() / "certs.d").string(); }

  // "127.0.0.1:port/<repo_tag>".
  std::string Ref(const std::string& repo_tag) const;
  // The 3-layer busybox OCI layout (gzip layers), built once per env.
  std::filesystem::path Layout();
  // Copies the layout to the registry as is (gzip layers).
  void PushPlain(const std::string& repo_tag);
  // Converts the layout with `tidectl convert` straight into the registry.
  void PushTide(const std::string& repo_tag);
  // Builds another busybox layout (its /data/random.bin differs from every other's) and converts it
  // into the registry as repo_tag.
  void PushOtherTide(const std::string& repo_tag);

  // `tidectl pull --address <containerd> --plain-http <extra...> REF`.
  CommandResult Pull(const std::string& ref, const std::vector<std::string>& extra = {});
  // ctr against the private containerd.
  CommandResult Ctr(const std::vector<std::string>& args);

  // Sum of response bytes of blob GETs in the registry's access log so far.
  int64_t RegistryBlobBytes() const;
  // Lines of /proc/mounts whose mount point is under this env's dir (but the cache's own disk).
  std::vector<std::string> MountsUnderEnv() const;
  // Blob GETs (200/206) per blob digest ("sha256:...") in the registry's access log so far.
  std::map<std::string, int> RegistryBlobGets() const { return RegistryGets("blobs"); }
  // Successful GETs per object name (a digest or a tag) of `kind` ("blobs", "manifests") so far.
  std::map<std::string, int> RegistryGets(const std::string& kind) const;
  // kill -9 tide-snapshotter and start it again on the same root and socket; `while_down` runs
  // in between (e.g. to wipe the chunk cache).
  void KillAndRestartSnapshotter(const std::function<void()>& while_down = {});
  // SIGTERM to tide-snapshotter, then starts `binary` (empty: the same one) on the same root and
  // socket: an upgrade.
  void StopAndRestartSnapshotter(const std::string& binary = "");
  // After a restart of tide-snapshotter: waits until containerd reaches it again. containerd redials a
  // restarted proxy snapshotter on its next call, with a backoff, so the first calls may fail.
  void WaitForContainerdToReachTide();
  std::string tide_log_path() const { return tide_options_.log_path; }
  // tide-snapshotter's unix socket: containerd's snapshots API and tide's Cache API.
  std::string tide_socket() const { return tide_options_.socket; }
  int metrics_port() const { return metrics_port_; }
  FaultProxy* fault_proxy() { return fault_proxy_.get(); }
  TokenServer* token_server() { return token_server_.get(); }
  // tide-snapshotter's pid (0 when not running).
  int tide_pid() const;

 private:
  TempDir dir_{"tide-pull-e2e"};
  std::unique_ptr<TokenServer> token_server_;
  std::unique_ptr<RegistryProcess> registry_;
  std::unique_ptr<FaultProxy> fault_proxy_;
  std::filesystem::path cache_disk_;  // the tmpfs mount point, if any
  std::unique_ptr<TideSnapshotterProcess> tide_;
  TideSnapshotterOptions tide_options_;
  std::unique_ptr<ContainerdProcess> containerd_;
  std::filesystem::path layout_;
  std::string registry_creds_;
  int metrics_port_ = 0;
};

std::string TidectlBinary();

}  // namespace tide::testing

#endif  // TIDE_TEST_E2E_PULL_PULL_ENV_H_
