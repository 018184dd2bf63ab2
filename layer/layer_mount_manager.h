#ifndef TIDE_LAYER_LAYER_MOUNT_MANAGER_H_
#define TIDE_LAYER_LAYER_MOUNT_MANAGER_H_

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "layer/layer_mount.h"
#include "registry/registry_client.h"

namespace tide::layer {

struct LayerMountManagerOptions {
  std::filesystem::path cache_dir;  // chunk cache root, shared by every mount
  uint64_t cache_max_bytes = 20ull << 30;
  fetch::FetchLimits limits;                 // node-wide prefetch budget
  LayerMountOptions defaults;                // per-mount options unless a Mount call overrides them
  registry::RegistryClientOptions registry;  // retries are kept short: the fetcher retries itself
  format::IndexLimits index_limits;          // per layer; a layer over them is not mounted
  // Both set: every mount's connection is held by a tide-fuse-keeper (`keeper_binary`, records in
  // `keeper_dir`), so it outlives this process, and Restore takes a kept connection back.
  std::filesystem::path keeper_dir;
  std::filesystem::path keeper_binary;
};

// Sets the registry timing of a process that serves reads, from defaults.fetcher.read_timeout: the
// fetcher retries within read_timeout itself, so each registry call is kept short, and a transfer
// that receives nothing for a third of read_timeout (registry::StallLimitWithin) is dead: prefetch
// requests have no deadline of their own, and a reader that finds its chunk in one of them waits
// for it within its own read_timeout, which a stalled connection must leave time to retry in.
void SetRegistryTimingForReads(LayerMountManagerOptions& options);

// A layer in a registry, as the snapshotter or `tidectl mount` knows it.
struct RemoteLayer {
  std::string reference;  // host/repo[:tag|@digest]; only host and repository are used
  Digest layer_digest;
  // From the layer descriptor's tide.index-* annotations; an empty digest means "use the footer".
  IndexLocation index;
};

// Reads the tide.index-{offset,size,digest} annotations of a layer descriptor, else its eStargz
// toc.digest annotation. NotFound when the layer has neither (a plain layer, or a tide layer
// converted without them).
absl::StatusOr<IndexLocation> IndexLocationFromAnnotations(
    const std::map<std::string, std::string>& annotations, uint64_t blob_size);

// Owns what every mounted layer of a node shares: the chunk cache, the prefetch queue and the
// registry client; mounts and unmounts layers by mountpoint. Thread-safe.
class LayerMountManager {
 public:
  static absl::StatusOr<std::unique_ptr<LayerMountManager>> Create(const LayerMountManagerOptions& options);
  ~LayerMountManager();  // unmounts everything still mounted

  // Mounts a registry layer on the existing directory `mountpoint`.
  absl::Status Mount(const RemoteLayer& layer, const std::filesystem::path& mountpoint);
  absl::Status Mount(const RemoteLayer& layer, const std::filesystem::path& mountpoint,
                     const LayerMountOptions& options);
  // Mounts a layer blob from any source (an OCI layout on disk, tests).
  absl::Status MountBlob(const std::string& name, std::shared_ptr<fetch::BlobSource> blob,
                         const IndexLocation& index, const std::filesystem::path& mountpoint,
                         const LayerMountOptions& options);
  // Unmounts what this manager mounted at `mountpoint`, or a stale FUSE mount a previous process
  // left there. OK when nothing is mounted.
  absl::Status Unmount(const std::filesystem::path& mountpoint);

  // After a restart: serves the layer at `mountpoint` again. When a keeper still holds the previous
  // process's connection there, that connection is served as it is: its readers never noticed the
  // restart. Otherwise whatever is there (typically a dead FUSE mount, which fails every access with
  // ENOTCONN) is replaced with a new mount. The chunk cache makes either cheap: nothing already
  // fetched is fetched again.
  absl::Status Restore(const RemoteLayer& layer, const std::filesystem::path& mountpoint);
  absl::Status Restore(const RemoteLayer& layer, const std::filesystem::path& mountpoint,
                       const LayerMountOptions& options);

  // The mount at `mountpoint`, or null. Valid until Unmount of that mountpoint.
  LayerMount* Find(const std::filesystem::path& mountpoint);
  // The loader walks of the mounts at `mountpoints`, in their order; a mountpoint with no mount or no
  // walk is left out. Weak: a walk must not keep an unmounted layer's walk alive.
  std::vector<std::weak_ptr<fuse::LoaderWalk>> LoaderWalksOf(
      const std::vector<std::filesystem::path>& mountpoints);
  // Calls visit for every mount, with mounting and unmounting held off meanwhile (metrics, status).
  void ForEachMount(const std::function<void(const LayerMount&)>& visit);
  cache::ChunkCache& cache() { return *cache_; }
  const std::shared_ptr<cache::ChunkCache>& shared_cache() const { return cache_; }
  // The node's prefetch queue: work queued here (a warm) yields to container reads like a mount's.
  const std::shared_ptr<fetch::PrefetchQueue>& queue() const { return queue_; }
  const LayerMountManagerOptions& options() const { return options_; }
  fetch::FetchLimiter& limiter() { return *limiter_; }
  registry::RegistryClient& registry() { return *registry_; }

 private:
  LayerMountManager() = default;
  absl::Status MountRemote(const RemoteLayer& layer, const std::filesystem::path& mountpoint,
                           const LayerMountOptions& options, UniqueFd adopt);
  // Puts a gzip side index blob into the chunk cache (verified against its digest), where
  // LoadLayerIndex reads it; kept there, it mounts again after a restart without the registry.
  absl::Status CacheSideIndex(const registry::Reference& ref, const IndexLocation& where);
  absl::Status MountBlobOn(const std::string& name, std::shared_ptr<fetch::BlobSource> blob,
                           const IndexLocation& index, const std::filesystem::path& mountpoint,
                           const LayerMountOptions& options, UniqueFd adopt);
  LayerMountManagerOptions options_;
  std::unique_ptr<fuse::FuseKeepers> keepers_;
  std::shared_ptr<cache::ChunkCache> cache_;
  std::shared_ptr<fetch::FetchLimiter> limiter_;
  std::shared_ptr<fetch::PrefetchQueue> queue_;
  std::unique_ptr<registry::RegistryClient> registry_;
  // After registry_: its requests must end (threads joined) before the client goes.
  std::shared_ptr<fetch::ReadAheadWorkers> read_ahead_;
  std::shared_ptr<fetch::ReadAheadWorkers> loader_walkers_;
  std::mutex mu_;
  std::map<std::filesystem::path, std::unique_ptr<LayerMount>> mounts_;
};

}  // namespace tide::layer

#endif  // TIDE_LAYER_LAYER_MOUNT_MANAGER_H_
