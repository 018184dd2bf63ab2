#include "warm/node_cache.h"

#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "fetch/chunk_fetcher.h"
#include "fetch/prefetcher.h"
#include "registry/reference.h"
#include "warm/pin_record.h"

namespace tide::warm {
namespace {

using tide::cache::v1::WarmProgress;

// One layer being warmed: its own fetcher over the registry blob, queued on the node's prefetch queue.
struct LayerRun {
  const LayerWarm* layer = nullptr;
  std::shared_ptr<fetch::ChunkFetcher> fetcher;
  std::unique_ptr<fetch::Prefetcher> prefetcher;
};

std::vector<Sha256Bytes> PinnedDigests(const WarmPlan& plan) {
  std::vector<Sha256Bytes> digests;
  for (const LayerWarm& l : plan.layers) {
    if (l.index == nullptr) continue;
    digests.push_back(l.where.digest.bytes());  // the index frame: the layer mounts without the registry
    for (uint32_t i : l.chunks) digests.push_back(l.index->chunk(i).sha256);
  }
  return digests;
}

PinRecord RecordOf(const WarmPlan& plan) {
  PinRecord record{plan.reference.String(), plan.manifest, plan.all, {}};
  for (const LayerWarm& l : plan.layers) {
    if (l.index != nullptr) record.layers.push_back({l.digest, l.where});
  }
  return record;
}

absl::Status CheckRoom(cache::ChunkCache& cache, const WarmPlan& plan, const std::string& owner) {
  if (cache.max_bytes() == std::numeric_limits<uint64_t>::max()) return absl::OkStatus();
  // Pinned chunks cannot be evicted: pinning more than the cache holds would leave no room for the
  // chunks containers read. Eviction goes down to 90% of the bound, so that is the most pins may fill.
  const uint64_t room = cache.max_bytes() / 10 * 9;
  const uint64_t pinned = cache.PinnedBytes(owner);
  // Chunks other images pin already (a shared base layer) cost nothing more.
  absl::flat_hash_set<Sha256Bytes, cache::Sha256Hash> others;
  for (const cache::PinFile& pin : cache.Pins()) {
    if (pin.owner != owner) others.insert(pin.chunks.begin(), pin.chunks.end());
  }
  uint64_t adding = 0;
  for (const LayerWarm& l : plan.layers) {
    for (uint32_t i : l.chunks) {
      if (!others.contains(l.index->chunk(i).sha256)) adding += l.index->chunk(i).uncompressed_size;
    }
  }
  if (pinned + adding > room) {
    return absl::ResourceExhaustedError(
        absl::StrCat("warming ", owner, " would pin ", adding, " more bytes beside the ", pinned,
                     " already pinned; the cache keeps at most ", room,
                     " pinned bytes (90% of cache_max_bytes): unpin images or raise cache_max_bytes"));
  }
  return absl::OkStatus();
}

WarmProgress PlanMessage(const WarmPlan& plan) {
  WarmProgress progress;
  progress.set_manifest(plan.manifest.str());
  for (const LayerWarm& l : plan.layers) {
    auto* out = progress.add_layers();
    out->set_digest(l.digest.str());
    out->set_path(l.path);
    out->set_chunks(l.chunks.size());
    out->set_bytes(l.bytes);
    out->set_blob_bytes(l.blob_bytes);
  }
  progress.set_chunks_total(plan.chunk_count());
  progress.set_bytes_total(plan.bytes());
  return progress;
}

// Counts what is cached now. The fetcher remembers chunks it has seen cached, so only the others
// are looked up in the cache.
void Tally(const std::vector<LayerRun>& runs, WarmProgress* progress) {
  uint64_t chunks = 0, bytes = 0, fetched = 0;
  for (const LayerRun& run : runs) {
    for (uint32_t i : run.layer->chunks) {
      if (run.fetcher->IsCached(i)) {
        ++chunks;
        bytes += run.layer->index->chunk(i).uncompressed_size;
      }
    }
    fetched += run.fetcher->stats().blob_bytes.load(std::memory_order_relaxed);
  }
  progress->set_chunks_cached(chunks);
  progress->set_bytes_cached(bytes);
  progress->set_bytes_fetched(fetched);
}

// The prefetch queue gives up on chunks it could not fetch; fetch what is still missing the way a
// reader would, so the warm either completes or fails with the registry's reason.
absl::Status FetchMissing(const LayerRun& run, std::chrono::milliseconds timeout) {
  for (uint32_t i : run.layer->chunks) {
    if (run.fetcher->IsCached(i)) continue;
    absl::Status st = run.fetcher->Ensure(i, i, fetch::FetchPriority::kPrefetch,
                                          std::chrono::steady_clock::now() + timeout);
    if (!st.ok()) {
      return absl::Status(st.code(),
                          absl::StrCat("layer ", run.layer->digest.str(), " chunk ", i, ": ", st.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status NodeCache::Warm(const WarmRequest& request, const std::function<bool(const WarmProgress&)>& send,
                             std::chrono::milliseconds interval) {
  TIDE_ASSIGN_OR_RETURN(WarmPlan plan, PlanWarm(manager_, request, learned_));
  const std::string owner = plan.reference.String();
  cache::ChunkCache& cache = manager_.cache();
  TIDE_RETURN_IF_ERROR(CheckRoom(cache, plan, owner));
  // Pinned before anything is fetched, so nothing fetched is evicted before it is pinned. An image
  // with no tide layer has nothing the cache could hold: no pin.
  const PinRecord record = RecordOf(plan);
  if (!record.layers.empty()) {
    TIDE_RETURN_IF_ERROR(cache.Pin(owner, EncodePinRecord(record), PinnedDigests(plan)));
  }
  WarmProgress progress = PlanMessage(plan);

  std::vector<LayerRun> runs;
  for (const LayerWarm& l : plan.layers) {
    if (l.chunks.empty()) continue;
    LayerRun run;
    run.layer = &l;
    const std::string name = absl::StrCat(plan.reference.registry(), "/", plan.reference.repository(), "@",
                                          l.digest.str(), " (warm)");
    run.fetcher = std::make_shared<fetch::ChunkFetcher>(
        name, layer::ChunkRefs(*l.index), layer::IndexChunkDecoder(l.index), l.source,
        manager_.shared_cache(), manager_.queue()->limiter(), manager_.options().defaults.fetcher);
    runs.push_back(std::move(run));
  }
  Tally(runs, &progress);
  if (!send(progress)) return absl::CancelledError("the client went away");
  for (LayerRun& run : runs) {
    // The chunks to warm as a startup set, ranked by their position.
    const fetch::PrefetchPlan queued =
        fetch::MakePrefetchPlan(fetch::PrefetchMode::kStartup, run.layer->chunks, {},
                                static_cast<uint32_t>(run.fetcher->chunk_count()));
    run.prefetcher = std::make_unique<fetch::Prefetcher>(manager_.queue(), run.fetcher, queued);
  }
  progress.clear_layers();
  for (bool running = true; running;) {
    running = false;
    for (const LayerRun& run : runs) running = running || !run.prefetcher->done();
    if (running) std::this_thread::sleep_for(interval);
    Tally(runs, &progress);
    if (running && !send(progress)) return absl::CancelledError("the client went away");
  }
  for (const LayerRun& run : runs) {
    TIDE_RETURN_IF_ERROR(FetchMissing(run, manager_.options().defaults.fetcher.read_timeout));
  }
  // The cache does not fsync each chunk; a warmed image must still be there after a power loss.
  TIDE_RETURN_IF_ERROR(cache.Sync());
  Tally(runs, &progress);
  progress.set_done(true);
  log::Info("image warmed", {{"image", owner},
                             {"mode", plan.all ? "all" : "startup"},
                             {"bytes", std::to_string(progress.bytes_cached())},
                             {"fetched", std::to_string(progress.bytes_fetched())}});
  send(progress);
  return absl::OkStatus();
}

absl::Status NodeCache::Unpin(std::string_view reference) {
  TIDE_ASSIGN_OR_RETURN(registry::Reference ref, registry::Reference::Parse(reference));
  absl::Status st = manager_.cache().Unpin(ref.String());
  if (st.ok()) log::Info("image unpinned", {{"image", ref.String()}});
  return st;
}

}  // namespace tide::warm
