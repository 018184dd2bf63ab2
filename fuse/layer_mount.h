#ifndef TIDE_FUSE_LAYER_MOUNT_H_
#define TIDE_FUSE_LAYER_MOUNT_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "format/layer_index.h"
#include "fuse/access_recorder.h"
#include "fuse/blob_source.h"
#include "fuse/chunk_cache.h"
#include "fuse/chunk_fetcher.h"
#include "fuse/fetch_limiter.h"
#include "fuse/fuse_mount.h"
#include "fuse/layer_fs.h"
#include "fuse/prefetch_queue.h"
#include "fuse/prefetcher.h"

namespace tide::fuse {

// Where the index frame sits in the blob (from the layer's tide.index-* annotations). With an empty
// digest the footer at the end of the blob is used instead (needs blob_size).
struct IndexLocation {
  uint64_t offset = 0;
  uint64_t size = 0;
  Digest digest;
  uint64_t blob_size = 0;
};

// A learned startup set: chunks in first-read order and, when known, each one's rank in the
// image-wide read order (empty ranks: their position is their rank).
struct LearnedStartup {
  std::vector<uint32_t> chunks;
  std::vector<uint32_t> ranks;
};

struct LayerMountOptions {
  PrefetchMode prefetch = PrefetchMode::kStartup;
  bool record_access = false;
  // For layers whose index has no startup set: the chunks an earlier run of the workload read
  // (a learned profile), prefetched first like a startup set. Unset or empty: none.
  std::function<LearnedStartup(const format::LayerIndex&)> learned_startup;
  FetcherOptions fetcher;
  KernelCacheOptions kernel;
  FuseMountOptions fuse;
};

// Loads and verifies a layer's index. Verified index frames are kept in the chunk cache (keyed by
// their digest) so a restart with a warm cache does not need the registry to mount.
absl::StatusOr<std::shared_ptr<const format::LayerIndex>> LoadLayerIndex(BlobSource& blob,
                                                                         const IndexLocation& where,
                                                                         ChunkCache* cache);

// One layer mounted through FUSE: index, fetcher, optional prefetch and access recording. The
// destructor stops prefetch, releases blocked readers and unmounts.
class LayerMount {
 public:
  static absl::StatusOr<std::unique_ptr<LayerMount>> Create(std::string layer_name,
                                                            std::shared_ptr<BlobSource> blob,
                                                            std::shared_ptr<const format::LayerIndex> index,
                                                            std::shared_ptr<ChunkCache> cache,
                                                            std::shared_ptr<PrefetchQueue> queue,
                                                            const std::filesystem::path& mountpoint,
                                                            const LayerMountOptions& options);
  ~LayerMount();

  const std::string& name() const { return name_; }
  const std::filesystem::path& mountpoint() const { return fuse_->mountpoint(); }
  const format::LayerIndex& index() const { return *index_; }
  ChunkFetcher& fetcher() { return *fetcher_; }
  AccessRecorder* recorder() { return recorder_.get(); }
  Prefetcher* prefetcher() { return prefetcher_.get(); }
  bool finished() const { return fuse_->finished(); }

 private:
  LayerMount() = default;
  std::string name_;
  std::shared_ptr<const format::LayerIndex> index_;
  std::shared_ptr<ChunkFetcher> fetcher_;
  std::shared_ptr<AccessRecorder> recorder_;
  std::unique_ptr<LayerFs> fs_;
  std::unique_ptr<FuseMount> fuse_;
  std::unique_ptr<Prefetcher> prefetcher_;
};

}  // namespace tide::fuse

#endif  // TIDE_FUSE_LAYER_MOUNT_H_
