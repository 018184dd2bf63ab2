#include "layer/layer_mount_manager.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "fetch/registry_blob_source.h"
#include "format/annotations.h"
#include "format/estargz/estargz_footer.h"
#include "format/index_limits.h"
#include "format/zstd_chunked/containers_storage_toc.h"
#include "registry/blob_range_reader.h"
#include "registry/reference.h"
#include "registry/stall_limit.h"

namespace tide::layer {

namespace fs = std::filesystem;

void SetRegistryTimingForReads(LayerMountManagerOptions& options) {
  options.registry.retry.max_attempts = 2;
  options.registry.retry.budget = std::chrono::seconds(2);
  options.registry.low_speed_time = registry::StallLimitWithin(options.defaults.fetcher.read_timeout);
}

namespace {

// eStargz layers carry only their TOC's digest; the footer at the blob's end locates the TOC.
absl::StatusOr<IndexLocation> EstargzLocation(const std::string* toc_digest, uint64_t blob_size) {
  if (toc_digest == nullptr) return absl::NotFoundError("layer has no tide index or eStargz TOC annotations");
  IndexLocation where;
  where.format = format::LayerFormat::kEstargz;
  where.blob_size = blob_size;
  absl::StatusOr<Digest> digest = Digest::Parse(*toc_digest);
  if (!digest.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("eStargz TOC digest annotation \"", *toc_digest, "\": ", digest.status().message()));
  }
  where.digest = *digest;
  return where;
}

// containers/storage's zstd:chunked layers locate their TOC and commit to its compressed bytes'
// sha256, so the TOC is read and cached like a tide index frame.
absl::StatusOr<IndexLocation> ContainersStorageLocation(const std::string& checksum,
                                                        const std::string& position, uint64_t blob_size) {
  TIDE_ASSIGN_OR_RETURN(format::ContainersStorageTocPosition at,
                        format::ParseContainersStorageTocPosition(position, blob_size));
  IndexLocation where;
  where.format = format::LayerFormat::kZstdChunked;
  where.offset = at.offset;
  where.size = at.size;
  where.blob_size = blob_size;
  absl::StatusOr<Digest> digest = Digest::Parse(checksum);
  if (!digest.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("zstd:chunked manifest-checksum \"", checksum, "\": ", digest.status().message()));
  }
  where.digest = *digest;
  return where;
}

}  // namespace

absl::StatusOr<IndexLocation> IndexLocationFromAnnotations(
    const std::map<std::string, std::string>& annotations, uint64_t blob_size) {
  auto get = [&](std::string_view key) -> const std::string* {
    auto it = annotations.find(std::string(key));
    return it == annotations.end() ? nullptr : &it->second;
  };
  const std::string* offset = get(format::kAnnotationIndexOffset);
  const std::string* size = get(format::kAnnotationIndexSize);
  const std::string* digest = get(format::kAnnotationIndexDigest);
  if (!offset || !size || !digest) {
    // stargz-snapshotter's zstd:chunked writer adds containers/storage's annotations too; its TOC
    // digest keeps such a layer on the stargz path.
    const std::string* toc_digest = get(format::kEstargzTocDigestAnnotation);
    const std::string* checksum = get(format::kContainersStorageTocChecksumLabel);
    const std::string* position = get(format::kContainersStorageTocPositionLabel);
    if (!checksum || !position) {
      checksum = get(format::kContainersStorageTocChecksumAnnotation);
      position = get(format::kContainersStorageTocPositionAnnotation);
    }
    if (!toc_digest && checksum && position)
      return ContainersStorageLocation(*checksum, *position, blob_size);
    return EstargzLocation(toc_digest, blob_size);
  }
  IndexLocation where;
  where.blob_size = blob_size;
  if (!absl::SimpleAtoi(*offset, &where.offset) || !absl::SimpleAtoi(*size, &where.size) || where.size == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("tide index annotations: bad offset \"", *offset, "\" or size \"", *size, "\""));
  }
  // Bounded here, before anything is sized by them: the annotations are the image author's.
  TIDE_RETURN_IF_ERROR(format::CheckIndexFrameSize("tide index annotations: the index", where.size));
  if (blob_size != 0 && (where.offset > blob_size || where.size > blob_size - where.offset)) {
    return absl::InvalidArgumentError(absl::StrCat("tide index annotations: index ", where.offset, "+",
                                                   where.size, " lies outside the ", blob_size,
                                                   "-byte blob"));
  }
  TIDE_ASSIGN_OR_RETURN(where.digest, Digest::Parse(*digest));
  return where;
}

absl::StatusOr<std::unique_ptr<LayerMountManager>> LayerMountManager::Create(
    const LayerMountManagerOptions& options) {
  if (options.cache_dir.empty()) return absl::InvalidArgumentError("layer mount manager needs a cache dir");
  std::unique_ptr<LayerMountManager> m(new LayerMountManager());
  m->options_ = options;
  TIDE_ASSIGN_OR_RETURN(m->cache_, cache::ChunkCache::Open(options.cache_dir, options.cache_max_bytes));
  m->limiter_ = std::make_shared<fetch::FetchLimiter>(options.limits);
  m->queue_ = std::make_shared<fetch::PrefetchQueue>(m->limiter_, options.limits);
  if (options.limits.read_ahead_streams > 0) {
    m->read_ahead_ = std::make_shared<fetch::ReadAheadWorkers>(options.limits.read_ahead_streams);
  }
  if (options.limits.loader_walkers > 0) {
    m->loader_walkers_ = std::make_shared<fetch::ReadAheadWorkers>(options.limits.loader_walkers);
  }
  TIDE_ASSIGN_OR_RETURN(m->registry_, registry::RegistryClient::Create(options.registry));
  if (!options.keeper_dir.empty() && !options.keeper_binary.empty()) {
    m->keepers_ = std::make_unique<fuse::FuseKeepers>(options.keeper_dir, options.keeper_binary);
  }
  return m;
}

LayerMountManager::~LayerMountManager() {
  std::lock_guard lock(mu_);
  mounts_.clear();
}

absl::Status LayerMountManager::Mount(const RemoteLayer& layer, const fs::path& mountpoint) {
  return Mount(layer, mountpoint, options_.defaults);
}

absl::Status LayerMountManager::Mount(const RemoteLayer& layer, const fs::path& mountpoint,
                                      const LayerMountOptions& options) {
  return MountRemote(layer, mountpoint, options, UniqueFd());
}

absl::Status LayerMountManager::MountRemote(const RemoteLayer& layer, const fs::path& mountpoint,
                                            const LayerMountOptions& options, UniqueFd adopt) {
  TIDE_ASSIGN_OR_RETURN(registry::Reference ref, registry::Reference::Parse(layer.reference));
  IndexLocation where = layer.index;
  // With the index location known, no request is needed before the first read: a warm cache
  // mounts even while the registry is unreachable. The blob extends at least to the index's end.
  const bool footer_first = where.digest.empty() || where.format != format::LayerFormat::kTide;
  int64_t size = where.blob_size ? static_cast<int64_t>(where.blob_size)
                 : footer_first  ? -1
                                 : static_cast<int64_t>(where.offset + where.size);
  TIDE_ASSIGN_OR_RETURN(std::unique_ptr<registry::BlobRangeReader> reader,
                        registry_->OpenBlob(ref, layer.layer_digest, size));
  if (where.blob_size == 0 && footer_first) where.blob_size = reader->size();
  if (where.format == format::LayerFormat::kGzipIndexed) {
    where.layer_digest = layer.layer_digest;
    TIDE_RETURN_IF_ERROR(CacheSideIndex(ref, where));
  }
  auto source = std::make_shared<fetch::RegistryBlobSource>(std::move(reader));
  std::string name = absl::StrCat(ref.registry(), "/", ref.repository(), "@", layer.layer_digest.str());
  return MountBlobOn(name, std::move(source), where, mountpoint, options, std::move(adopt));
}

absl::Status LayerMountManager::CacheSideIndex(const registry::Reference& ref, const IndexLocation& where) {
  if (cache_->Contains(where.digest.bytes())) return absl::OkStatus();
  TIDE_RETURN_IF_ERROR(
      format::CheckIndexFrameSize(absl::StrCat("gzip side index ", where.digest.str()), where.size));
  TIDE_ASSIGN_OR_RETURN(std::string frame,
                        registry_->FetchBlobBytes(ref, where.digest, static_cast<int64_t>(where.size)));
  return cache_->Put(where.digest.bytes(), frame);
}

absl::Status LayerMountManager::MountBlob(const std::string& name, std::shared_ptr<fetch::BlobSource> blob,
                                          const IndexLocation& index, const fs::path& mountpoint,
                                          const LayerMountOptions& options) {
  return MountBlobOn(name, std::move(blob), index, mountpoint, options, UniqueFd());
}

absl::Status LayerMountManager::MountBlobOn(const std::string& name, std::shared_ptr<fetch::BlobSource> blob,
                                            const IndexLocation& index, const fs::path& mountpoint,
                                            const LayerMountOptions& options, UniqueFd adopt) {
  fs::path key = mountpoint.lexically_normal();
  {
    std::lock_guard lock(mu_);
    if (mounts_.contains(key))
      return absl::AlreadyExistsError(absl::StrCat(key.string(), " is already mounted"));
  }
  TIDE_ASSIGN_OR_RETURN(std::shared_ptr<const format::LayerIndex> idx,
                        LoadLayerIndex(*blob, index, cache_.get(), options_.index_limits));
  LayerMountOptions with_keepers = options;
  with_keepers.fuse.keepers = keepers_.get();
  if (with_keepers.blob_size == 0) with_keepers.blob_size = index.blob_size;
  if (with_keepers.read_ahead_workers == nullptr) with_keepers.read_ahead_workers = read_ahead_;
  if (with_keepers.loader_walkers == nullptr) with_keepers.loader_walkers = loader_walkers_;
  TIDE_ASSIGN_OR_RETURN(std::unique_ptr<LayerMount> mount,
                        LayerMount::Create(name, std::move(blob), std::move(idx), cache_, queue_, key,
                                           with_keepers, std::move(adopt)));
  std::lock_guard lock(mu_);
  mounts_[key] = std::move(mount);
  return absl::OkStatus();
}

absl::Status LayerMountManager::Unmount(const fs::path& mountpoint) {
  fs::path key = mountpoint.lexically_normal();
  std::unique_ptr<LayerMount> mount;
  {
    std::lock_guard lock(mu_);
    auto it = mounts_.find(key);
    if (it != mounts_.end()) {
      mount = std::move(it->second);
      mounts_.erase(it);
    }
  }
  if (mount) {
    mount.reset();
    return absl::OkStatus();
  }
  return fuse::ForceUnmount(key);
}

absl::Status LayerMountManager::Restore(const RemoteLayer& layer, const fs::path& mountpoint) {
  return Restore(layer, mountpoint, options_.defaults);
}

absl::Status LayerMountManager::Restore(const RemoteLayer& layer, const fs::path& mountpoint,
                                        const LayerMountOptions& options) {
  if (keepers_ != nullptr) {
    absl::StatusOr<UniqueFd> kept = keepers_->Reclaim(mountpoint);
    if (kept.ok()) {
      absl::Status adopted = MountRemote(layer, mountpoint, options, std::move(*kept));
      if (adopted.ok()) {
        log::Info("layer mount taken over from the previous process", {{"mountpoint", mountpoint.string()}});
        return adopted;
      }
      log::Warn("cannot take over the kept layer mount, mounting it again",
                {{"mountpoint", mountpoint.string()}, {"error", adopted.message()}});
    }
  }
  TIDE_RETURN_IF_ERROR(Unmount(mountpoint));
  return Mount(layer, mountpoint, options);
}

void LayerMountManager::ForEachMount(const std::function<void(const LayerMount&)>& visit) {
  std::lock_guard lock(mu_);
  for (const auto& [mountpoint, mount] : mounts_) visit(*mount);
}

std::vector<std::weak_ptr<fuse::LoaderWalk>> LayerMountManager::LoaderWalksOf(
    const std::vector<fs::path>& mountpoints) {
  std::vector<std::weak_ptr<fuse::LoaderWalk>> walks;
  std::lock_guard lock(mu_);
  for (const fs::path& mountpoint : mountpoints) {
    auto it = mounts_.find(mountpoint.lexically_normal());
    if (it != mounts_.end() && it->second->fs().loader_walk() != nullptr)
      walks.push_back(it->second->fs().loader_walk());
  }
  return walks;
}

LayerMount* LayerMountManager::Find(const fs::path& mountpoint) {
  std::lock_guard lock(mu_);
  auto it = mounts_.find(mountpoint.lexically_normal());
  return it == mounts_.end() ? nullptr : it->second.get();
}

}  // namespace tide::layer
