// The FUSE-backed RemoteLayerMounter, the daemon's side of the remote_layer_mounter_factory.h seam.
// It maps Prepare labels to layer::RemoteLayer and leaves the rest to layer::LayerMountManager (shared chunk
// cache under <root>/cache, node-wide prefetch limits).
#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "format/zstd_chunked/containers_storage_toc.h"
#include "layer/image_manifests.h"
#include "layer/index_prefetcher.h"
#include "layer/layer_metrics.h"
#include "layer/layer_mount_manager.h"
#include "layer/layer_status.h"
#include "layer/xattr_shadow.h"
#include "side_index/side_index_finder.h"
#include "snapshotter/profile_keeper.h"
#include "snapshotter/remote_layer_labels.h"
#include "snapshotter/remote_layer_mounter.h"
#include "snapshotter/remote_layer_mounter_factory.h"
#include "snapshotter/restore_labels.h"
#include "warm/node_cache.h"

namespace tide::snapshotter {
namespace {

struct LazyFormats {
  bool estargz = true;
  bool gzip_index = true;
  std::map<std::string, std::string> side_index_pins;  // image manifest -> artifact (config)
};

// A layer with no index of its own, to be served through its image's gzip side index.
struct SideIndexQuery {
  Digest manifest;
  Digest pin;  // a pinned artifact; empty: the image's referrers
};

absl::StatusOr<SideIndexQuery> SideIndexQueryOf(const RemoteLayerLocation& where, const Digest& layer,
                                                const std::map<std::string, std::string>& pins) {
  SideIndexQuery query;
  if (where.manifest_digest.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("layer ", layer.str(), " of ", where.reference,
                     " has no index annotations and no image manifest label"));
  }
  TIDE_ASSIGN_OR_RETURN(query.manifest, Digest::Parse(where.manifest_digest));
  std::string pin = where.side_index_pin;
  if (auto it = pins.find(query.manifest.str()); pin.empty() && it != pins.end()) pin = it->second;
  if (!pin.empty()) {
    TIDE_ASSIGN_OR_RETURN(query.pin, Digest::Parse(pin));
  }
  return query;
}

// The layer, and for a layer without its own index the side index query that completes it.
absl::StatusOr<std::pair<layer::RemoteLayer, std::optional<SideIndexQuery>>> ToRemoteLayer(
    const Labels& labels, const LazyFormats& lazy) {
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
    if (!lazy.gzip_index) {
      return absl::FailedPreconditionError(
          absl::StrCat("layer ", layer.layer_digest.str(), " of ", where.reference,
                       " has no index annotations (lazy_gzip_index is off)"));
    }
    TIDE_ASSIGN_OR_RETURN(SideIndexQuery query,
                          SideIndexQueryOf(where, layer.layer_digest, lazy.side_index_pins));
    layer.index.format = format::LayerFormat::kGzipIndexed;
    return std::make_pair(layer, std::optional<SideIndexQuery>(query));
  }
  if (!index.ok()) return index.status();
  if ((index->format == format::LayerFormat::kEstargz ||
       index->format == format::LayerFormat::kZstdChunked) &&
      !lazy.estargz) {
    return absl::FailedPreconditionError(
        absl::StrCat("eStargz or zstd:chunked layer ", layer.layer_digest.str(), ": lazy_estargz is off"));
  }
  layer.index = *index;
  return std::make_pair(layer, std::optional<SideIndexQuery>());
}

// Layers without a startup set are prefetched from the profile learned on an earlier run on this
// node (<root>/profiles); the first run of a layer records one (docs/profiles.md).
class FuseRemoteLayerMounter : public RemoteLayerMounter {
 public:
  FuseRemoteLayerMounter(std::unique_ptr<layer::LayerMountManager> manager, layer::LayerMountOptions defaults,
                         const std::filesystem::path& profile_dir, LazyFormats lazy)
      : lazy_(std::move(lazy)),
        manager_(std::move(manager)),
        side_indexes_(std::make_unique<side_index::SideIndexFinder>(manager_->registry())),
        images_(std::make_unique<layer::ImageManifests>(manager_->registry())),
        index_prefetcher_(
            std::make_unique<layer::IndexPrefetcher>(manager_->registry(), *images_, manager_->cache())),
        defaults_(std::move(defaults)),
        keeper_(std::make_unique<ProfileKeeper>(*manager_, profile_dir)),
        node_cache_(std::make_unique<warm::NodeCache>(
            *manager_, [keeper = keeper_.get()](const Digest& layer, const format::LayerIndex& index) {
              return keeper->Has(layer) ? keeper->LearnedChunks(layer, index) : layer::LearnedStartup{};
            })) {}

  warm::NodeCache* node_cache() override { return node_cache_.get(); }

  void WriteMetrics(metrics::TextWriter& out) override {
    layer::WriteLayerMetrics(*manager_, out);
    out.Counter("tide_index_prefetched_total", "Layer indexes fetched ahead of their layer's Prepare", {},
                static_cast<double>(index_prefetcher_->cached()));
  }
  nlohmann::json Status() override { return layer::LayerStatus(*manager_); }

  absl::StatusOr<bool> IsRemoteLayer(const Labels& labels) override {
    auto layer = ToRemoteLayer(labels, lazy_);
    if (absl::IsNotFound(layer.status())) return false;
    if (!layer.ok()) {
      // A plain layer of a CRI pull: not a tide layer at all, so no warning either.
      if (!HasTideLabels(labels)) return false;
      return layer.status();
    }
    // An image already found to have no side index: its other layers fall back without a word.
    if (const auto& query = layer->second; query && side_indexes_->KnownAbsent(query->manifest, query->pin))
      return false;
    return true;
  }
  absl::StatusOr<MountedLayer> Mount(const Labels& labels, const std::filesystem::path& target,
                                     const std::vector<std::filesystem::path>& lowers) override {
    TIDE_ASSIGN_OR_RETURN(layer::RemoteLayer layer, Resolve(labels, /*restoring=*/false));
    PrefetchLaterIndexes(labels, layer);
    const bool learned = keeper_->Has(layer.layer_digest);
    TIDE_ASSIGN_OR_RETURN(layer::LayerMountOptions options, OptionsFor(layer, learned, labels));
    options.xattr_shadow = {.dir = target.parent_path(), .build = true};
    // The loader finds a library in whichever layer holds it: the walk follows it there.
    options.lower_loader_walks = manager_->LoaderWalksOf(lowers);
    // An earlier layer's Prepare may be fetching this one's index already.
    if (layer.index.format == format::LayerFormat::kTide && !layer.index.digest.empty())
      index_prefetcher_->WaitFor(layer.index.digest, kIndexPrefetchWait);
    TIDE_RETURN_IF_ERROR(manager_->Mount(layer, target, options));
    layer::LayerMount* mount = manager_->Find(target);
    if (mount == nullptr)
      return absl::InternalError(absl::StrCat("layer mounted on ", target.string(), " is gone"));
    // What the snapshotter binds the chainID to: the diff_id a tide index commits to, else (eStargz)
    // the one the chainID was computed from.
    Digest diff_id = mount->index().diff_id();
    if (diff_id.empty()) diff_id = options.diff_id;
    if (diff_id.empty()) {
      manager_->Unmount(target).IgnoreError();
      return absl::FailedPreconditionError(
          absl::StrCat("index of layer ", layer.layer_digest.str(), " commits to no diff_id"));
    }
    if (!learned) keeper_->Watch(target, layer.layer_digest);
    return MountedLayer{.diff_id = diff_id, .restore_labels = RestoreLabels(layer, *mount, diff_id)};
  }
  std::vector<std::filesystem::path> LowerDirs(const std::filesystem::path& target) override {
    return layer::ShadowedLowerDirs(target);
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
    TIDE_ASSIGN_OR_RETURN(layer::RemoteLayer layer, Resolve(labels, /*restoring=*/true));
    keeper_->Forget(target);
    const bool learned = keeper_->Has(layer.layer_digest);
    TIDE_ASSIGN_OR_RETURN(layer::LayerMountOptions options, OptionsFor(layer, learned, labels));
    // Containers running on the layer were stacked with the shadow Mount built, if any: keep it.
    options.xattr_shadow = {.dir = target.parent_path(), .build = false};
    TIDE_RETURN_IF_ERROR(manager_->Restore(layer, target, options));
    if (!learned) keeper_->Watch(target, layer.layer_digest);
    return absl::OkStatus();
  }

 private:
  static constexpr absl::Duration kIndexPrefetchWait = absl::Seconds(10);

  // containerd prepares the layers one after another: the tide indexes of the layers after this
  // one (cri.image-layers) are fetched meanwhile (layer::IndexPrefetcher).
  void PrefetchLaterIndexes(const Labels& labels, const layer::RemoteLayer& layer) {
    if (layer.index.format != format::LayerFormat::kTide) return;
    absl::StatusOr<RemoteLayerLocation> where = LocateRemoteLayer(labels);
    if (!where.ok() || where->image_layers.size() < 2 || labels.count(kCriManifestDigestLabel) == 0) return;
    absl::StatusOr<registry::Reference> repo = registry::Reference::Parse(layer.reference);
    absl::StatusOr<Digest> manifest = Digest::Parse(where->manifest_digest);
    if (!repo.ok() || !manifest.ok()) return;
    std::vector<Digest> later;
    for (size_t i = 1; i < where->image_layers.size(); ++i) {
      absl::StatusOr<Digest> d = Digest::Parse(where->image_layers[i]);
      if (d.ok()) later.push_back(*d);
    }
    index_prefetcher_->PrefetchImage(*repo, *manifest, std::move(later));
  }

  // The layer with its index located: for a layer without its own index, the side index its image's
  // artifact lists for it (looked up once per image), or when restoring, the one Mount found then.
  absl::StatusOr<layer::RemoteLayer> Resolve(const Labels& labels, bool restoring) {
    TIDE_ASSIGN_OR_RETURN(auto resolved, ToRemoteLayer(labels, lazy_));
    auto& [layer, query] = resolved;
    if (!query) {
      if (restoring && layer.index.format == format::LayerFormat::kEstargz) {
        TIDE_RETURN_IF_ERROR(ApplyRestoredStargzToc(labels, layer.index));
      }
      if (restoring && layer.index.format == format::LayerFormat::kZstdChunked) {
        TIDE_RETURN_IF_ERROR(ApplyRestoredBlobSize(labels, layer.index));
      }
      return layer;
    }
    if (restoring) {
      absl::StatusOr<RestoredSideIndex> kept = ParseRestoredSideIndex(labels);
      if (kept.ok()) {
        layer.index.digest = kept->digest;
        layer.index.size = kept->size;
        layer.index.blob_size = kept->blob_size;
        return layer;
      }
      if (!absl::IsNotFound(kept.status())) return kept.status();
    }
    TIDE_ASSIGN_OR_RETURN(registry::Reference repo, registry::Reference::Parse(layer.reference));
    if (lazy_.estargz && query->pin.empty()) {
      TIDE_ASSIGN_OR_RETURN(std::optional<layer::IndexLocation> toc,
                            ContainersStorageToc(repo, query->manifest, layer.layer_digest));
      if (toc) {
        layer.index = *toc;
        return layer;
      }
    }
    TIDE_ASSIGN_OR_RETURN(oci::Descriptor blob,
                          side_indexes_->Find(repo, query->manifest, layer.layer_digest, query->pin));
    layer.index.digest = blob.digest;
    layer.index.size = static_cast<uint64_t>(std::max<int64_t>(0, blob.size));
    return layer;
  }

  // A layer whose labels locate no index: under CRI only its digests reach the snapshotter, so
  // containers/storage's zstd:chunked annotations are read from the image manifest the cri labels
  // name (fetched once per image, by digest, and verified). nullopt: the layer has none.
  absl::StatusOr<std::optional<layer::IndexLocation>> ContainersStorageToc(const registry::Reference& repo,
                                                                           const Digest& manifest,
                                                                           const Digest& layer_digest) {
    TIDE_ASSIGN_OR_RETURN(oci::Descriptor desc, images_->Layer(repo, manifest, layer_digest));
    if (desc.annotations.count(std::string(format::kContainersStorageTocChecksumAnnotation)) == 0) {
      return std::nullopt;
    }
    TIDE_ASSIGN_OR_RETURN(layer::IndexLocation toc,
                          layer::IndexLocationFromAnnotations(
                              desc.annotations, static_cast<uint64_t>(std::max<int64_t>(0, desc.size))));
    if (toc.format != format::LayerFormat::kZstdChunked) return std::nullopt;
    return toc;
  }

  // A stargz-TOC layer restored with the label its Mount left: the blob size (no HEAD) and where the
  // TOC kept in the cache belongs. Without the label (a snapshot from before it existed), as at Mount.
  static absl::Status ApplyRestoredStargzToc(const Labels& labels, layer::IndexLocation& where) {
    absl::StatusOr<RestoredStargzToc> kept = ParseRestoredStargzToc(labels);
    if (absl::IsNotFound(kept.status())) return absl::OkStatus();
    if (!kept.ok()) return kept.status();
    where.blob_size = kept->blob_size;
    where.kept_toc = layer::KeptStargzToc{.format = kept->format, .toc_offset = kept->toc_offset};
    return absl::OkStatus();
  }

  // containers/storage's zstd:chunked: the labels locate the TOC (cached under its checksum), the
  // restore label gives the blob's size, so no HEAD is needed.
  static absl::Status ApplyRestoredBlobSize(const Labels& labels, layer::IndexLocation& where) {
    absl::StatusOr<uint64_t> size = ParseRestoredBlobSize(labels);
    if (absl::IsNotFound(size.status())) return absl::OkStatus();
    if (!size.ok()) return size.status();
    if (*size < where.offset || *size - where.offset < where.size) {
      return absl::InvalidArgumentError(
          absl::StrCat(kTideRestoreBlobSizeLabel, " ", *size, " ends before the layer's TOC"));
    }
    where.blob_size = *size;
    return absl::OkStatus();
  }

  // What Restore needs to mount the layer again without the registry: the side index Mount resolved,
  // where the stargz TOC lies, and the diff_id a format without its own (eStargz, gzip) was bound to.
  static Labels RestoreLabels(const layer::RemoteLayer& layer, const layer::LayerMount& mount,
                              const Digest& diff_id) {
    Labels labels;
    if (layer.index.format == format::LayerFormat::kGzipIndexed) {
      labels[kTideRestoreSideIndexLabel] = FormatRestoredSideIndex(
          {.digest = layer.index.digest, .size = layer.index.size, .blob_size = mount.blob_size()});
    }
    // A layer located by its stargz TOC digest (eStargz, or stargz-snapshotter's zstd:chunked, which
    // the blob's tail tells apart). containers/storage's zstd:chunked locates its TOC in its labels.
    const format::LayerFormat served = mount.index().format();
    if (layer.index.format == format::LayerFormat::kEstargz && mount.blob_size() != 0) {
      labels[kTideRestoreStargzTocLabel] = FormatRestoredStargzToc(
          {.format = served, .toc_offset = mount.index().data_end(), .blob_size = mount.blob_size()});
    }
    if (layer.index.format == format::LayerFormat::kZstdChunked) {
      if (mount.blob_size() != 0) labels[kTideRestoreBlobSizeLabel] = absl::StrCat(mount.blob_size());
      // Where the manifest put the TOC (under CRI it came from there, not from the labels).
      labels[std::string(format::kContainersStorageTocChecksumLabel)] = layer.index.digest.str();
      labels[std::string(format::kContainersStorageTocPositionLabel)] =
          absl::StrCat(layer.index.offset, ":", layer.index.size, ":0:1");
    }
    if (layer.index.format != format::LayerFormat::kTide) labels[kTideDiffIdLabel] = diff_id.str();
    return labels;
  }

  absl::StatusOr<layer::LayerMountOptions> OptionsFor(const layer::RemoteLayer& layer, bool learned,
                                                      const Labels& labels) {
    layer::LayerMountOptions options = defaults_;
    if (layer.index.format != format::LayerFormat::kTide) {
      TIDE_ASSIGN_OR_RETURN(options.diff_id, ClaimedDiffId(layer, labels));
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

  // For a layer whose index names no diff_id: the one the client computed the chainID from. tidectl
  // pull says it in a label; under CRI it is read from the image config the cri labels lead to.
  absl::StatusOr<Digest> ClaimedDiffId(const layer::RemoteLayer& layer, const Labels& labels) {
    if (auto it = labels.find(kTideDiffIdLabel); it != labels.end()) return Digest::Parse(it->second);
    auto manifest = labels.find(kCriManifestDigestLabel);
    if (manifest == labels.end()) {
      return absl::FailedPreconditionError(absl::StrCat("layer names no diff_id and has neither a ",
                                                        kTideDiffIdLabel, " nor a ", kCriManifestDigestLabel,
                                                        " label"));
    }
    TIDE_ASSIGN_OR_RETURN(Digest manifest_digest, Digest::Parse(manifest->second));
    TIDE_ASSIGN_OR_RETURN(registry::Reference repo, registry::Reference::Parse(layer.reference));
    absl::StatusOr<Digest> diff_id = images_->DiffId(repo, manifest_digest, layer.layer_digest);
    if (!diff_id.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("diff_id from the image config of ", layer.reference,
                                                        ": ", diff_id.status().message()));
    }
    return diff_id;
  }

  const LazyFormats lazy_;
  std::unique_ptr<layer::LayerMountManager> manager_;
  std::unique_ptr<side_index::SideIndexFinder> side_indexes_;  // uses manager_'s registry client
  std::unique_ptr<layer::ImageManifests> images_;              // as does this
  std::unique_ptr<layer::IndexPrefetcher> index_prefetcher_;   // uses both; declared after: goes first
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
  options.defaults.fetcher.hedge_delay = absl::ToChronoMilliseconds(config.read_hedge_delay);
  options.defaults.fetcher.sequential_lookahead_bytes = config.read_ahead;
  options.defaults.fetcher.sequential_gap_bytes = config.read_ahead_gap;
  options.defaults.fetcher.cluster_lookahead_bytes = config.read_ahead_neighbours;
  options.defaults.fetcher.whole_file_bytes = config.read_ahead_whole_file;
  options.defaults.fetcher.loader_lookahead = config.read_ahead_loader;
  options.defaults.fetcher.extension_siblings = config.read_ahead_siblings;
  options.defaults.fetcher.constructor_code = config.read_ahead_constructors;
  options.defaults.fetcher.import_names = config.read_ahead_imports;
  options.limits.read_ahead_streams = config.read_ahead_streams;
  options.limits.loader_walkers = config.read_ahead_walkers;
  options.defaults.kernel.startup_readahead_kb = static_cast<uint32_t>(config.startup_readahead >> 10);
  options.defaults.kernel.readahead_kb = static_cast<uint32_t>(config.kernel_readahead >> 10);
  options.defaults.warm_page_cache = config.warm_page_cache;
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
      std::move(manager), options.defaults, root.root() / "profiles",
      LazyFormats{config.lazy_estargz, config.lazy_gzip_index, config.side_index_pins}));
}

}  // namespace tide::snapshotter
