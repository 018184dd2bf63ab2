#ifndef TIDE_LAYER_LAYER_MOUNT_H_
#define TIDE_LAYER_LAYER_MOUNT_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "cache/chunk_cache.h"
#include "common/digest.h"
#include "fetch/blob_source.h"
#include "fetch/chunk_fetcher.h"
#include "fetch/fetch_limiter.h"
#include "fetch/prefetch_queue.h"
#include "fetch/prefetcher.h"
#include "fetch/read_ahead_workers.h"
#include "format/layer_index.h"
#include "fuse/fuse_mount.h"
#include "fuse/layer_fs.h"
#include "fuse/page_cache_warmer.h"
#include "layer/access_recorder.h"
#include "layer/stargz_toc_cache.h"

namespace tide::layer {

// Where the index frame sits in the blob (from the layer's tide.index-* annotations). With an empty
// digest the footer at the end of the blob is used instead (needs blob_size).
// For an eStargz layer, `digest` is its TOC's (the stargz toc.digest annotation); the footer locates
// the TOC, so offset and size are unused and blob_size is needed.
// For a gzip layer with a side index, `digest` and `size` are the side index blob's (in the same
// repository), and `layer_digest` is the layer it must describe.
struct IndexLocation {
  uint64_t offset = 0;
  uint64_t size = 0;
  Digest digest;
  uint64_t blob_size = 0;
  format::LayerFormat format = format::LayerFormat::kTide;
  Digest layer_digest = Digest();
  // eStargz (and zstd:chunked) after a restart: where Mount found the TOC, which it kept in the
  // chunk cache. The kept TOC is used first; without it the blob is read as at Mount.
  std::optional<KeptStargzToc> kept_toc = std::nullopt;
};

// A learned startup set: chunks in first-read order and, when known, each one's rank in the
// image-wide read order (empty ranks: their position is their rank).
struct LearnedStartup {
  std::vector<uint32_t> chunks;
  std::vector<uint32_t> ranks;
};

struct LayerMountOptions {
  fetch::PrefetchMode prefetch = fetch::PrefetchMode::kStartup;
  bool record_access = false;
  // For layers whose index has no startup set: the chunks an earlier run of the workload read
  // (a learned profile), prefetched first like a startup set. Unset or empty: none.
  std::function<LearnedStartup(const format::LayerIndex&)> learned_startup;
  fetch::FetcherOptions fetcher;
  // The node's threads for reads whose requests carry read-ahead; null: readers fetch it themselves.
  std::shared_ptr<fetch::ReadAheadWorkers> read_ahead_workers;
  // The node's threads that follow shared objects' dependencies (fuse::LoaderWalk); null: none.
  std::shared_ptr<fetch::ReadAheadWorkers> loader_walkers;
  // The loader walks of the layers under this one in its snapshot chain, top first: where the walk
  // looks for the libraries this layer lacks (LayerMountManager::LoaderWalksOf). Empty: none.
  std::vector<std::weak_ptr<fuse::LoaderWalk>> lower_loader_walks;
  fuse::KernelCacheOptions kernel;
  fuse::FuseMountOptions fuse;
  fuse::IdShift ids;  // owners as served (optimize's user namespace); default: as in the layer
  // Read the startup chunks that are local at mount through the mount (fuse::PageCacheWarmer).
  bool warm_page_cache = false;
  // For formats whose index names no diff_id (eStargz): the one the layer's chainID was computed
  // from, and the blob's size, so that with prefetch = "all" the whole layer can be checked.
  Digest diff_id;
  uint64_t blob_size = 0;
  // Where the layer's xattrs may be handed to local directories (BuildXattrShadow); empty: the mount
  // serves them. `build`: write a new shadow (a first mount); else use one there (a restore).
  struct XattrShadow {
    std::filesystem::path dir;
    bool build = false;
  } xattr_shadow;
};

// Loads and verifies a layer's index. Verified index frames are kept in the chunk cache (keyed by
// their digest) so a restart with a warm cache does not need the registry to mount.
absl::StatusOr<std::shared_ptr<const format::LayerIndex>> LoadLayerIndex(
    fetch::BlobSource& blob, const IndexLocation& where, cache::ChunkCache* cache,
    const format::IndexLimits& limits = {});

// Where each chunk of the index sits in the blob and what it hashes to, for a ChunkFetcher.
std::vector<fetch::ChunkRef> ChunkRefs(const format::LayerIndex& index);
// Decodes and verifies a chunk of `index` for a ChunkFetcher. Holds the index: a read-ahead request
// may still be storing chunks after the mount (or warm) that made the fetcher is gone.
fetch::ChunkDecoder IndexChunkDecoder(std::shared_ptr<const format::LayerIndex> index);

// The index from the chunk cache alone, never the registry: NotFound when its frame is not cached.
absl::StatusOr<std::shared_ptr<const format::LayerIndex>> LoadCachedLayerIndex(
    const IndexLocation& where, cache::ChunkCache& cache, const format::IndexLimits& limits = {});

// One layer mounted through FUSE: index, fetcher, optional prefetch and access recording. The
// destructor stops prefetch, releases blocked readers and unmounts. Create with `adopt` (a kept
// connection already mounted at `mountpoint`) serves that connection instead of mounting.
class LayerMount {
 public:
  static absl::StatusOr<std::unique_ptr<LayerMount>> Create(
      std::string layer_name, std::shared_ptr<fetch::BlobSource> blob,
      std::shared_ptr<const format::LayerIndex> index, std::shared_ptr<cache::ChunkCache> cache,
      std::shared_ptr<fetch::PrefetchQueue> queue, const std::filesystem::path& mountpoint,
      const LayerMountOptions& options, UniqueFd adopt = UniqueFd());
  ~LayerMount();

  const std::string& name() const { return name_; }
  const std::filesystem::path& mountpoint() const { return fuse_->mountpoint(); }
  const format::LayerIndex& index() const { return *index_; }
  uint64_t blob_size() const { return blob_size_; }
  fetch::ChunkFetcher& fetcher() { return *fetcher_; }
  const fetch::ChunkFetcher& fetcher() const { return *fetcher_; }
  AccessRecorder* recorder() { return recorder_.get(); }
  fetch::Prefetcher* prefetcher() { return prefetcher_.get(); }
  const fetch::Prefetcher* prefetcher() const { return prefetcher_.get(); }
  // "none" (nothing planned), "running" or "done": the startup set and, with prefetch = "all", the
  // rest of the layer, however it is fetched.
  const char* prefetch_state() const;
  bool finished() const { return fuse_->finished(); }
  // The whole layer was fetched and its tar does not hash to the index's diff_id: reads fail.
  bool poisoned() const { return fs_->poisoned(); }
  uint64_t read_errors() const { return fs_->read_errors(); }
  const fuse::LayerFs& fs() const { return *fs_; }
  // Whether local directories beside the mount serve the layer's xattrs (see xattr_shadow.h).
  bool xattrs_shadowed() const {
    return !fs_->serves_xattrs() && (index_->has_xattrs() || fs_->view().any_opaque());
  }
  // Null when the mount warms no page cache (no startup set, none of it local, or off).
  const fuse::PageCacheWarmer* warmer() const { return warmer_.get(); }
  std::chrono::steady_clock::time_point mounted_at() const { return mounted_at_; }

 private:
  LayerMount() = default;
  std::string name_;
  std::chrono::steady_clock::time_point mounted_at_ = std::chrono::steady_clock::now();
  std::shared_ptr<const format::LayerIndex> index_;
  std::shared_ptr<fetch::BlobSource> blob_;
  // The node's: the whole-layer check's download of a streamed layer yields to container reads.
  std::shared_ptr<fetch::FetchLimiter> limiter_;
  Digest diff_id_;  // what the whole layer must hash to; the index's own, else the options'
  uint64_t blob_size_ = 0;
  std::shared_ptr<fetch::ChunkFetcher> fetcher_;
  std::shared_ptr<AccessRecorder> recorder_;
  std::unique_ptr<fuse::LayerFs> fs_;
  std::unique_ptr<fuse::FuseMount> fuse_;
  std::unique_ptr<fetch::Prefetcher> prefetcher_;
  std::shared_ptr<fetch::PrefetchQueue> queue_;
  std::optional<uint64_t> widen_hook_;   // PrefetchQueue::WhenStarted
  std::vector<uint32_t> warmed_chunks_;  // the startup chunks local at mount, in startup order
  std::unique_ptr<fuse::PageCacheWarmer> warmer_;
  // A layer whose tar is checked from the blob (eStargz, zstd:chunked) with prefetch = "all": its
  // rest is fetched by that one streamed pass, not by the queue's rest batches and then again.
  bool streamed_rest_ = false;
  std::atomic<bool> rest_done_{false};
  // What that pass left (chunks too large to hold, a failed download): the ordinary rest prefetch.
  // Written by the verifier thread only, before rest_done_.
  std::unique_ptr<fetch::Prefetcher> rest_prefetcher_;
  // Once the prefetch of the whole layer has run: hashes the tar and poisons the layer on a mismatch.
  std::atomic<bool> stopping_{false};
  std::thread verifier_;
  void VerifyWhenFetched();
  void StartWarmer(const std::filesystem::path& mountpoint);
  // Hands the layer's xattrs to a shadow (building one if asked); true if it built one.
  bool UseXattrShadow(const LayerMountOptions::XattrShadow& shadow);
  absl::Status StreamRestAndVerify();
};

}  // namespace tide::layer

#endif  // TIDE_LAYER_LAYER_MOUNT_H_
