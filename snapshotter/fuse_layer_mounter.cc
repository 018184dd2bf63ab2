#include "snapshotter/fuse_layer_mounter.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "snapshotter/log.h"
#include "snapshotter/remote_layer_labels.h"

namespace tide::snapshotter {
namespace {

fuse::PrefetchMode ToFuse(PrefetchMode mode) {
  switch (mode) {
    case PrefetchMode::kNone:
      return fuse::PrefetchMode::kNone;
    case PrefetchMode::kStartup:
      return fuse::PrefetchMode::kStartup;
    case PrefetchMode::kAll:
      return fuse::PrefetchMode::kAll;
  }
  return fuse::PrefetchMode::kStartup;
}

}  // namespace

absl::StatusOr<fuse::RemoteLayer> RemoteLayerFromLabels(const Labels& labels) {
  TIDE_ASSIGN_OR_RETURN(RemoteLayerLocation where, LocateRemoteLayer(labels));
  if (where.layer_digest.empty()) {
    return absl::NotFoundError(
        absl::StrCat("layer of ", where.reference,
                     " carries no layer digest (neither cri.layer-digest nor tide.layer-digest)"));
  }
  fuse::RemoteLayer layer;
  layer.reference = where.reference;
  TIDE_ASSIGN_OR_RETURN(layer.layer_digest, Digest::Parse(where.layer_digest));
  std::map<std::string, std::string> annotations;
  for (const auto& [key, value] : labels) annotations[key] = value;
  // Blob size 0: the index location comes from the annotations, so the footer is not needed.
  TIDE_ASSIGN_OR_RETURN(layer.index, fuse::IndexLocationFromAnnotations(annotations, 0));
  return layer;
}

absl::StatusOr<std::unique_ptr<FuseLayerMounter>> FuseLayerMounter::Create(const Config& config) {
  fuse::LayerMountManagerOptions options;
  options.cache_dir = config.root / "cache";
  // The daemon config says 0 for "no limit"; the cache takes a byte bound.
  options.cache_max_bytes = config.cache_max_bytes == 0 ? UINT64_MAX : config.cache_max_bytes;
  options.limits.max_prefetch_concurrency = config.prefetch_concurrency;
  options.limits.prefetch_bytes_per_second = config.prefetch_bandwidth;
  options.defaults.prefetch = ToFuse(config.prefetch);
  options.defaults.fetcher.read_timeout = absl::ToChronoMilliseconds(config.read_timeout);
  options.registry.hosts_dir = config.hosts_dir.string();
  TIDE_ASSIGN_OR_RETURN(auto manager, fuse::LayerMountManager::Create(options));
  return std::unique_ptr<FuseLayerMounter>(
      new FuseLayerMounter(std::move(manager), options.defaults, config.root / "profiles"));
}

absl::StatusOr<bool> FuseLayerMounter::IsRemoteLayer(const Labels& labels) {
  if (!HasTideLabels(labels)) return false;
  auto layer = RemoteLayerFromLabels(labels);
  if (absl::IsNotFound(layer.status())) return false;
  if (!layer.ok()) return layer.status();
  return true;
}

absl::Status FuseLayerMounter::Mount(const Labels& labels, const std::filesystem::path& target) {
  TIDE_ASSIGN_OR_RETURN(fuse::RemoteLayer layer, RemoteLayerFromLabels(labels));
  fuse::LayerMountOptions options = defaults_;
  const bool learned = keeper_->Has(layer.layer_digest);
  options.record_access = !learned;
  if (learned) {
    ProfileKeeper* keeper = keeper_.get();
    Digest digest = layer.layer_digest;
    options.learned_startup = [keeper, digest](const format::LayerIndex& index) {
      return keeper->LearnedChunks(digest, index);
    };
  }
  TIDE_RETURN_IF_ERROR(manager_->Mount(layer, target, options));
  if (!learned) keeper_->Watch(target, layer.layer_digest);
  return absl::OkStatus();
}

absl::Status FuseLayerMounter::Unmount(const std::filesystem::path& target) {
  keeper_->Forget(target);
  return manager_->Unmount(target);
}

absl::Status FuseLayerMounter::Restore(const Labels& labels, const std::filesystem::path& target) {
  // A killed daemon leaves a dead FUSE mount (ENOTCONN) on target; clear it before mounting anew.
  TIDE_RETURN_IF_ERROR(manager_->Unmount(target));
  return Mount(labels, target);
}

}  // namespace tide::snapshotter
