#include "layer/index_prefetcher.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "format/index_limits.h"
#include "layer/layer_mount_manager.h"

namespace tide::layer {

IndexPrefetcher::IndexPrefetcher(registry::RegistryClient& registry, ImageManifests& images,
                                 cache::ChunkCache& cache, size_t workers)
    : registry_(registry), images_(images), cache_(cache) {
  for (size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { Work(); });
}

IndexPrefetcher::~IndexPrefetcher() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (const Job& job : jobs_) {
      if (job.index) in_flight_.erase(job.index->digest.str());
    }
    jobs_.clear();
  }
  for (std::thread& t : workers_) t.join();
}

void IndexPrefetcher::PrefetchImage(const registry::Reference& repo, const Digest& manifest,
                                    std::vector<Digest> layers) {
  if (layers.empty()) return;
  if (layers.size() > kMaxLayersPerImage) layers.resize(kMaxLayersPerImage);
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  std::string key = absl::StrCat(repo.registry(), "/", repo.repository(), "@", manifest.str());
  if (images_seen_.contains(key)) return;
  // Forgetting the images seen only means a later Prepare of one looks its indexes up again.
  if (images_seen_.size() >= 1024) images_seen_.clear();
  images_seen_.insert(std::move(key));
  const auto images = std::count_if(jobs_.begin(), jobs_.end(), [](const Job& j) { return !j.index; });
  if (static_cast<size_t>(images) >= kMaxQueuedImages) return;
  jobs_.push_back(Job{.repo = repo,
                      .manifest = manifest,
                      .layers = std::move(layers),
                      .layer = Digest(),
                      .index = std::nullopt});
}

void IndexPrefetcher::WaitFor(const Digest& index_digest, absl::Duration timeout) {
  const std::string& key = index_digest.str();
  absl::MutexLock lock(&mu_);
  auto done = [this, &key]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !in_flight_.contains(key); };
  mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

uint64_t IndexPrefetcher::cached() const {
  absl::MutexLock lock(&mu_);
  return cached_;
}

bool IndexPrefetcher::idle() const {
  absl::MutexLock lock(&mu_);
  return jobs_.empty() && busy_ == 0;
}

bool IndexPrefetcher::Take(Job* job) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !jobs_.empty(); };
  mu_.Await(absl::Condition(&ready));
  if (stopping_) return false;
  *job = std::move(jobs_.front());
  jobs_.pop_front();
  ++busy_;
  return true;
}

void IndexPrefetcher::Work() {
  Job job;
  while (Take(&job)) {
    if (job.index) {
      FetchIndex(job);
    } else {
      ResolveImage(job);
    }
    absl::MutexLock lock(&mu_);
    --busy_;
  }
}

// One job per layer whose descriptor in the manifest locates a tide index not cached yet. Its
// in-flight mark is set before the job waits in the queue, so that a mount of that layer waits for
// it instead of fetching the index a second time.
void IndexPrefetcher::ResolveImage(const Job& job) {
  for (const Digest& layer : job.layers) {
    absl::StatusOr<oci::Descriptor> desc = images_.Layer(job.repo, job.manifest, layer);
    if (!desc.ok()) {
      log::Debug("index prefetch: layer not found in its image manifest",
                 {{"layer", layer.str()}, {"error", desc.status().message()}});
      return;
    }
    absl::StatusOr<IndexLocation> where = IndexLocationFromAnnotations(
        desc->annotations, static_cast<uint64_t>(std::max<int64_t>(0, desc->size)));
    if (!where.ok() || where->format != format::LayerFormat::kTide || where->digest.empty()) continue;
    if (!format::CheckIndexFrameSize("a prefetched index", where->size).ok()) continue;
    if (cache_.Contains(where->digest.bytes())) continue;
    absl::MutexLock lock(&mu_);
    if (stopping_ || !in_flight_.insert(where->digest.str()).second) continue;
    jobs_.push_back(
        Job{.repo = job.repo, .manifest = job.manifest, .layers = {}, .layer = layer, .index = *where});
  }
}

void IndexPrefetcher::FetchIndex(const Job& job) {
  const IndexLocation& where = *job.index;
  absl::StatusOr<std::string> frame = registry_.ReadBlobRange(job.repo, job.layer, where.offset, where.size);
  absl::Status st = frame.status();
  // Cached only under the digest the manifest commits to, and only if the bytes hash to it.
  if (st.ok() && !(Digest::Of(*frame) == where.digest)) {
    st = absl::DataLossError(
        absl::StrCat("index of layer ", job.layer.str(), " does not hash to ", where.digest.str()));
  }
  if (st.ok()) st = cache_.Put(where.digest.bytes(), *frame);
  if (absl::IsDataLoss(st)) {
    log::Warn("index prefetch: wrong bytes", {{"layer", job.layer.str()}, {"error", st.message()}});
  } else if (!st.ok()) {
    log::Debug("index prefetch failed", {{"layer", job.layer.str()}, {"error", st.message()}});
  }
  absl::MutexLock lock(&mu_);
  in_flight_.erase(where.digest.str());
  if (st.ok()) ++cached_;
}

}  // namespace tide::layer
