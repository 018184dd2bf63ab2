#include "tidectl/mount_command.h"

#include <signal.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "layer/layer_mount_manager.h"
#include "oci/manifest.h"
#include "oci/platform.h"
#include "registry/reference.h"

namespace tide::tidectl {
namespace {

struct MountArgs {
  bool plain_http = false;
  std::string hosts_dir;
  std::string prefetch = "startup";
  std::string cache_dir = "/var/lib/tide/cache";
  uint64_t cache_max_gb = 20;
  int read_timeout_s = 30;
  std::string record_path;
  std::string ref;
  std::string layer_digest;
  std::string mountpoint;
};

// The layer's descriptor in REF's manifest (for the host platform), which carries the index location.
absl::StatusOr<layer::RemoteLayer> FindLayer(registry::RegistryClient& client, const MountArgs& args) {
  TIDE_ASSIGN_OR_RETURN(registry::Reference ref, registry::Reference::Parse(args.ref));
  TIDE_ASSIGN_OR_RETURN(Digest layer_digest, Digest::Parse(args.layer_digest));
  TIDE_ASSIGN_OR_RETURN(oci::Descriptor desc, client.ResolvePlatformManifest(ref, oci::Platform::Host()));
  TIDE_ASSIGN_OR_RETURN(registry::FetchedManifest fetched, client.FetchManifest(ref, desc.digest));
  TIDE_ASSIGN_OR_RETURN(oci::Manifest manifest, oci::Manifest::Parse(fetched.bytes, ref.String()));
  for (const oci::Descriptor& layer : manifest.layers) {
    if (!(layer.digest == layer_digest)) continue;
    layer::RemoteLayer remote{args.ref, layer_digest, {}};
    auto where = layer::IndexLocationFromAnnotations(layer.annotations, static_cast<uint64_t>(layer.size));
    if (where.ok()) {
      remote.index = *where;
    } else if (absl::IsNotFound(where.status())) {
      remote.index.blob_size = static_cast<uint64_t>(layer.size);  // locate the index by the footer
    } else {
      return where.status();
    }
    return remote;
  }
  return absl::NotFoundError(
      absl::StrCat("layer ", layer_digest.str(), " is not in the manifest of ", ref.String()));
}

// Waits for SIGINT/SIGTERM (blocked by the caller) or for the mount to go away under us.
int WaitForEnd(layer::LayerMountManager& manager, const std::string& mountpoint) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  timespec tick{0, 200 * 1000 * 1000};
  while (true) {
    int sig = sigtimedwait(&set, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) return sig;
    layer::LayerMount* m = manager.Find(mountpoint);
    if (m == nullptr || m->finished()) return 0;
  }
}

absl::Status RunMount(const MountArgs& args) {
  layer::LayerMountManagerOptions options;
  options.cache_dir = args.cache_dir;
  options.cache_max_bytes = args.cache_max_gb << 30;
  options.registry.plain_http = args.plain_http;
  options.registry.hosts_dir = args.hosts_dir;
  TIDE_ASSIGN_OR_RETURN(options.defaults.prefetch, fetch::ParsePrefetchMode(args.prefetch));
  options.defaults.record_access = !args.record_path.empty();
  options.defaults.fetcher.read_timeout = std::chrono::seconds(args.read_timeout_s);
  layer::SetRegistryTimingForReads(options);

  // Block the signals before any thread starts so they all inherit the mask and only sigtimedwait sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  TIDE_ASSIGN_OR_RETURN(auto manager, layer::LayerMountManager::Create(options));
  TIDE_ASSIGN_OR_RETURN(layer::RemoteLayer layer, FindLayer(manager->registry(), args));
  TIDE_RETURN_IF_ERROR(manager->Mount(layer, args.mountpoint));
  layer::LayerMount* mount = manager->Find(args.mountpoint);
  std::cerr << "tidectl mount: " << mount->name() << " at " << args.mountpoint << " ("
            << mount->index().entry_count() << " entries, " << mount->index().chunks().size()
            << " chunks, prefetch " << args.prefetch << ")" << std::endl;
  int sig = WaitForEnd(*manager, args.mountpoint);
  if (mount = manager->Find(args.mountpoint); mount != nullptr) {
    if (mount->recorder() != nullptr) {
      const format::LayerIndex& index = mount->index();
      absl::Status st = mount->recorder()->WriteTsv(args.record_path,
                                                    [&](uint32_t id) { return std::string(index.path(id)); });
      if (!st.ok()) std::cerr << "tidectl mount: " << st.message() << std::endl;
    }
    const fetch::FetcherStats& s = mount->fetcher().stats();
    std::cerr << "tidectl mount: fetched " << s.blob_bytes << " blob bytes in " << s.requests << " requests"
              << std::endl;
  }
  TIDE_RETURN_IF_ERROR(manager->Unmount(args.mountpoint));
  std::cerr << "tidectl mount: unmounted " << args.mountpoint << (sig ? " on signal" : "") << std::endl;
  return absl::OkStatus();
}

}  // namespace

void AddMountCommand(CLI::App& app) {
  auto args = std::make_shared<MountArgs>();
  CLI::App* cmd = app.add_subcommand("mount", "Mount one layer of an image through FUSE (foreground)");
  cmd->add_flag("--plain-http", args->plain_http, "Use plain HTTP for registries without a hosts.toml");
  cmd->add_option("--hosts-dir", args->hosts_dir, "containerd certs.d directory with <host>/hosts.toml");
  cmd->add_option("--prefetch", args->prefetch, "Background prefetch: none, startup or all")
      ->check(CLI::IsMember({"none", "startup", "all"}));
  cmd->add_option("--cache", args->cache_dir, "Chunk cache directory")->capture_default_str();
  cmd->add_option("--cache-max-gb", args->cache_max_gb, "Chunk cache size bound in GiB")
      ->capture_default_str();
  cmd->add_option("--read-timeout", args->read_timeout_s, "Seconds a read waits for an unreachable registry")
      ->capture_default_str();
  cmd->add_option("--record-access", args->record_path, "Write the files and ranges read, in order, here");
  cmd->add_option("REF", args->ref, "Image reference (host/repo:tag or @digest)")->required();
  cmd->add_option("LAYER_DIGEST", args->layer_digest, "Digest of the tide layer to mount")->required();
  cmd->add_option("MOUNTPOINT", args->mountpoint, "Existing empty directory")->required();
  cmd->callback([args] {
    absl::Status st = RunMount(*args);
    if (!st.ok()) {
      std::cerr << "tidectl mount: " << st.message() << std::endl;
      throw CLI::RuntimeError(1);  // app.exit() returns the code without printing
    }
  });
}

}  // namespace tide::tidectl
