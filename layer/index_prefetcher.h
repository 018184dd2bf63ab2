#ifndef TIDE_LAYER_INDEX_PREFETCHER_H_
#define TIDE_LAYER_INDEX_PREFETCHER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cache/chunk_cache.h"
#include "common/digest.h"
#include "layer/image_manifests.h"
#include "layer/layer_mount.h"
#include "registry/reference.h"
#include "registry/registry_client.h"

namespace tide::layer {

// containerd prepares an image's layers one after another, and each tide layer's mount first fetches
// and checks its index. Here, at the first layer's Prepare, the indexes of the layers after it
// (cri.image-layers) are fetched side by side into the chunk cache, so their mounts find them there.
// Where they are comes from the image manifest, fetched by digest and verified (ImageManifests); a
// frame is cached only once it hashes to the digest the manifest commits to. Failures are dropped:
// the layer's own mount then fetches its index as before. Thread-safe.
class IndexPrefetcher {
 public:
  static constexpr size_t kMaxLayersPerImage = 64;  // cri.image-layers holds ~56 within its 4 KiB
  static constexpr size_t kMaxQueuedImages = 16;

  IndexPrefetcher(registry::RegistryClient& registry, ImageManifests& images, cache::ChunkCache& cache,
                  size_t workers = 3);
  ~IndexPrefetcher();  // drops what is queued, waits for what is under way
  IndexPrefetcher(const IndexPrefetcher&) = delete;
  IndexPrefetcher& operator=(const IndexPrefetcher&) = delete;

  // Queues the tide indexes of `layers` of the image `manifest` in `repo`; returns at once. An image
  // already queued is not queued again.
  void PrefetchImage(const registry::Reference& repo, const Digest& manifest, std::vector<Digest> layers);
  // Waits, up to `timeout`, while the index `index_digest` is being fetched.
  void WaitFor(const Digest& index_digest, absl::Duration timeout);

  // Index frames cached so far.
  uint64_t cached() const;
  // Nothing queued and nothing under way.
  bool idle() const;

 private:
  // Either an image to resolve (`layers`) or one index to fetch (`index`).
  struct Job {
    registry::Reference repo;
    Digest manifest;
    std::vector<Digest> layers;
    Digest layer;
    std::optional<IndexLocation> index;
  };

  void Work();
  void ResolveImage(const Job& job);
  void FetchIndex(const Job& job);
  bool Take(Job* job);  // counts the worker busy until Work is done with the job

  registry::RegistryClient& registry_;
  ImageManifests& images_;
  cache::ChunkCache& cache_;
  mutable absl::Mutex mu_;
  std::deque<Job> jobs_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> images_seen_ ABSL_GUARDED_BY(mu_);  // repository@manifest
  absl::flat_hash_set<std::string> in_flight_ ABSL_GUARDED_BY(mu_);    // index digests
  uint64_t cached_ ABSL_GUARDED_BY(mu_) = 0;
  size_t busy_ ABSL_GUARDED_BY(mu_) = 0;  // workers with a job
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace tide::layer

#endif  // TIDE_LAYER_INDEX_PREFETCHER_H_
