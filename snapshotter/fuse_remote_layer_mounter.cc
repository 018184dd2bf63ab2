// The FUSE-backed RemoteLayerMounter, the daemon's side of the remote_layer_mounter_factory.h seam.
// It maps Prepare labels to layer::RemoteLayer and leaves the rest to layer::LayerMountManager (shared chunk
// cache under <root>/cache, node-wide prefetch limits).
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "layer/layer_metrics.h"
#include "layer/layer_mount_manager.h"
#include "layer/layer_status.h"
#include "snapshotter/profile_keeper.h"
#include "snapshotter/remote_layer_labels.h"
#include "snapshotter/remote_layer_mounter.h"
#include "snapshotter/remote_layer_mounter_factory.h"
#include "warm/node_cache.h"

namespace tide::snapshotter {
namespace {

absl::StatusOr<layer::RemoteLayer> ToRemoteLayer(const Labels& labels, bool lazy_estargz) {
  TIDE_ASSIGN_OR_RETURN(RemoteLayerLocation where, LocateRemoteLayer(labels));
  if (where.layer_digest.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("tide layer of ", where.reference, " has no ", kCriLayerDigestLabel, " label"));
  }
  layer::RemoteLayer layer;
  layer.reference = where.reference;
  TIDE_ASSIGN_OR_RETURN(layer.layer_digest, Digest::Parse(where.layer_digest));
  // containerd copies the layer's annotations into the labels under the same keys.
  // containerd copies the layer's annotations into the labels under the same keys. Only an index
  // digest the manifest commits to binds the served bytes to the image: without one (the blob's
  // footer names a digest of its own choosing) the layer takes the ordinary path.
  auto index = layer::IndexLocationFromAnnotations(labels, 0);
  if (absl::IsNotFound(index.status())) {
    return absl::FailedPreconditionError(absl::StrCat("tide layer ", layer.layer_digest.str(), " of ",
                                                      where.reference, " has no index annotations"));
  }
  if (!index.ok()) return index.status();
  if (index->format == format::LayerFormat::kEstargz && !lazy_estargz) {
    return absl::FailedPreconditionError(
        absl::StrCat("eStargz layer ", layer.layer_digest.str(), ": lazy_estargz is off"));
  }
  layer.index = *index;
  return layer;
}

// What the snapshotter binds the layer's chainID to: the diff_id a tide index commits to, or for a
// format whose TOC names none (eStargz) the one the client derived the chainID from.
absl::StatusOr<Digest> DiffIdOf(const layer::LayerMount& mount, const Labels& labels) {
  if (!mount.index().diff_id().empty()) return mount.index().diff_id();
  if (mount.index().format() == format::LayerFormat::kTide)
    return absl::FailedPreconditionError("index commits to no diff_id");
  auto it = labels.find(kTideDiffIdLabel);
  if (it == labels.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat(std::string(format::LayerFormatName(mount.index().format())), " layer without a ",
                     kTideDiffIdLabel, " label"));
  }
  return Digest::Parse(it->second);
}

// Layers without a startup set are prefetched from the profile learned on an earlier run on this
// node (<root>/profiles); the first run of a layer records one (docs/profiles.md).
class FuseRemoteLayerMounter : public RemoteLayerMounter {
 public:
  FuseRemoteLayerMounter(std::unique_ptr<layer::LayerMountManager> manager, layer::LayerMountOptions defaults,
                         const std::filesystem::path& profile_dir, bool lazy_estargz)
      : lazy_estargz_(lazy_estargz),
        manager_(std::move(manager)),
        defaults_(std::move(defaults)),
        keeper_(std::make_unique<ProfileKeeper>(*manager_, profile_dir)),
        node_cache_(std::make_unique<warm::NodeCache>(
            *manager_, [keeper = keeper_.get()](const Digest& layer, const format::LayerIndex& index) {
              return keeper->Has(layer) ? keeper->LearnedChunks(layer, index) : layer::LearnedStartup{};
            })) {}

  warm::NodeCache* node_cache() override { return node_cache_.get(); }

  void WriteMetrics(metrics::TextWriter& out) override { layer::WriteLayerMetrics(*manager_, out); }
  nlohmann::json Status() override { return layer::LayerStatus(*manager_); }

  absl::StatusOr<bool> IsRemoteLayer(const Labels& labels) override {
    auto layer = ToRemoteLayer(labels, lazy_estargz_);
    if (absl::IsNotFound(layer.status())) return false;
    if (!layer.ok()) return layer.status();
    return true;
  }
  absl::StatusOr<Digest> Mount(const Labels& labels, const std::filesystem::path& target) override {
    TIDE_ASSIGN_OR_RETURN(layer::RemoteLayer layer, ToRemoteLayer(labels, lazy_estargz_));
    const bool learned = keeper_->Has(layer.layer_digest);
    TIDE_RETURN_IF_ERROR(manager_->Mount(layer, target, OptionsFor(layer, learned, labels)));
    layer::LayerMount* mount = manager_->Find(target);
    absl::StatusOr<Digest> diff_id =
        mount != nullptr ? DiffIdOf(*mount, labels) : absl::NotFoundError("not mounted");
    if (!diff_id.ok()) {
      manager_->Unmount(target).IgnoreError();
      return absl::FailedPreconditionError(
          absl::StrCat("layer ", layer.layer_digest.str(), ": ", diff_id.status().message()));
    }
    if (!learned) keeper_->Watch(target, layer.layer_digest);
    return *diff_id;
  }
  bool Poisoned(const std::filesystem::path& target) override {
    layer::LayerMount* mount = manager_->Find(target);
    return mount != nullptr && mount->poisoned();
  }
  absl::Status Unmount(const std::filesystem::path& target) override {
    keeper_->Forget(target);
    return manager_->Unmount(target);
  }
  // A restored mount is a mount like any other: it records when no profile is kept (the
  // container may run for the first time only now) and prefetches the learned chunks otherwise.
  absl::Status Restore(const Labels& labels, const std::filesystem::path& target) override {
    TIDE_ASSIGN_OR_RETURN(layer::RemoteLayer layer, ToRemoteLayer(labels, lazy_estargz_));
    keeper_->Forget(target);
    const bool learned = keeper_->Has(layer.layer_digest);
    TIDE_RETURN_IF_ERROR(manager_->Restore(layer, target, OptionsFor(layer, learned, labels)));
    if (!learned) keeper_->Watch(target, layer.layer_digest);
    return absl::OkStatus();
  }

 private:
  layer::LayerMountOptions OptionsFor(const layer::RemoteLayer& layer, bool learned, const Labels& labels) {
    layer::LayerMountOptions options = defaults_;
    if (auto it = labels.find(kTideDiffIdLabel); it != labels.end()) {
      absl::StatusOr<Digest> diff_id = Digest::Parse(it->second);
      if (diff_id.ok()) options.diff_id = *diff_id;
    }
    options.record_access = !learned;
    if (learned) {
      ProfileKeeper* keeper = keeper_.get();
      Digest digest = layer.layer_digest;
      options.learned_startup = [keeper, digest](const format::LayerIndex& index) {
        return keeper->LearnedChunks(digest, index);
      };
    }
    return options;
  }

  const bool lazy_estargz_;
  std::unique_ptr<layer::LayerMountManager> manager_;
  layer::LayerMountOptions defaults_;
  std::unique_ptr<ProfileKeeper> keeper_;  // declared after manager_: goes first
  std::unique_ptr<warm::NodeCache> node_cache_;
};

// The keeper the daemon hands its FUSE connections to: configured, or the one installed beside it.
std::filesystem::path FuseKeeperBinary(const Config& config) {
  if (!config.fuse_keeper.empty()) return config.fuse_keeper;
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path("tide-fuse-keeper") : self.parent_path() / "tide-fuse-keeper";
}

}  // namespace

absl::StatusOr<std::unique_ptr<RemoteLayerMounter>> MakeRemoteLayerMounter(const Config& config,
                                                                           const RootLock& root) {
  layer::LayerMountManagerOptions options;
  // The cache cannot be configured elsewhere: the root's lock is what keeps a second daemon out.
  options.cache_dir = root.root() / "cache";
  options.cache_max_bytes =
      config.cache_max_bytes ? config.cache_max_bytes : std::numeric_limits<uint64_t>::max();
  options.limits.max_prefetch_concurrency = config.prefetch_concurrency;
  options.limits.startup_streams = config.prefetch_startup_streams;
  options.limits.prefetch_bytes_per_second = config.prefetch_bandwidth;
  options.defaults.prefetch = config.prefetch;
  options.index_limits.max_memory = config.max_index_memory;
  options.defaults.fetcher.read_timeout = absl::ToChronoMilliseconds(config.read_timeout);
  options.defaults.fetcher.sequential_lookahead_bytes = config.read_ahead;
  options.defaults.fetcher.cluster_lookahead_bytes = config.read_ahead_neighbours;
  options.defaults.fetcher.whole_file_bytes = config.read_ahead_whole_file;
  options.defaults.fetcher.loader_lookahead = config.read_ahead_loader;
  options.limits.read_ahead_streams = config.read_ahead_streams;
  options.defaults.kernel.startup_readahead_kb = static_cast<uint32_t>(config.startup_readahead >> 10);
  options.registry.hosts_dir = config.hosts_dir.string();
  options.registry.mirror_stall_time = absl::ToChronoMilliseconds(config.mirror_stall_timeout);
  layer::SetRegistryTimingForReads(options);
  if (config.keep_mounts_on_restart) {
    options.keeper_dir = root.root() / "fuse-keepers";
    options.keeper_binary = FuseKeeperBinary(config);
  }
  TIDE_ASSIGN_OR_RETURN(std::unique_ptr<layer::LayerMountManager> manager,
                        layer::LayerMountManager::Create(options));
  return std::unique_ptr<RemoteLayerMounter>(new FuseRemoteLayerMounter(
      std::move(manager), options.defaults, root.root() / "profiles", config.lazy_estargz));
}

}  // namespace tide::snapshotter
