#include "fetch/prefetch_queue.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log.h"
#include "common/string_view_compat.h"
#include "fetch/background_priority.h"

namespace tide::fetch {
namespace {

// Reading over a gap costs its bytes; skipping it costs a request, which with few startup streams
// leaves the link idle for a round trip. A startup set cut to the pages startup reads is full of
// gaps (the unread parts of files it reads in part); 256 KiB is about the bytes a 1 Gbit/s link
// carries in a 2 ms round trip, so reading over a gap this small never takes longer than skipping it.
constexpr uint64_t kMaxStartupGap = 256 << 10;
constexpr int kMaxRestFailures = 5;

}  // namespace

struct PrefetchQueue::Layer {
  std::shared_ptr<ChunkFetcher> fetcher;
  int pending_startup = 0;  // startup requests queued or running
  bool rest = false;        // rest of the layer still to go
  uint32_t cursor = 0;      // next chunk the rest phase looks at
  int rest_failures = 0;
  std::chrono::steady_clock::time_point retry_at;
  int running = 0;
  bool removed = false;
  // For the log line when the startup set is in.
  std::chrono::steady_clock::time_point added = std::chrono::steady_clock::now();
  int startup_requests = 0;
  uint64_t startup_bytes = 0;
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
};

PrefetchQueue::PrefetchQueue(std::shared_ptr<FetchLimiter> limiter, FetchLimits limits)
    : limiter_(std::move(limiter)), limits_(limits) {
  for (int i = 0; i < std::max(1, limits_.startup_streams); ++i) {
    workers_.emplace_back([this] { Work(Phase::kStartup); });
  }
  for (int i = 0; i < std::max(1, limits_.max_prefetch_concurrency); ++i) {
    workers_.emplace_back([this] {
      LowerCurrentThreadPriority();
      Work(Phase::kRest);
    });
  }
}

PrefetchQueue::~PrefetchQueue() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    for (const auto& layer : layers_) layer->stop = true;
  }
  limiter_->Wake();
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

bool PrefetchQueue::Done(const Layer& layer) { return layer.done; }

std::vector<PrefetchQueue::StartupRequest> PrefetchQueue::SplitStartup(const std::shared_ptr<Layer>& layer,
                                                                       const PrefetchPlan& plan) {
  ChunkFetcher& fetcher = *layer->fetcher;
  const std::vector<uint32_t> reserved = fetcher.Reserve(plan.startup);
  // Rank of each reserved chunk: its first appearance in the plan.
  std::vector<std::pair<uint32_t, uint32_t>> by_blob;  // (chunk, rank)
  by_blob.reserve(reserved.size());
  {
    size_t r = 0;
    for (size_t i = 0; i < plan.startup.size() && r < reserved.size(); ++i) {
      if (plan.startup[i] != reserved[r]) continue;
      by_blob.emplace_back(reserved[r++], i < plan.ranks.size() ? plan.ranks[i] : static_cast<uint32_t>(i));
    }
  }
  std::sort(by_blob.begin(), by_blob.end(), [&](const auto& a, const auto& b) {
    return fetcher.chunk(a.first).blob_offset < fetcher.chunk(b.first).blob_offset;
  });
  std::vector<StartupRequest> requests;
  uint64_t request_start = 0;
  for (const auto& [chunk, rank] : by_blob) {
    const ChunkRef& c = fetcher.chunk(chunk);
    bool join = false;
    if (!requests.empty()) {
      const ChunkRef& prev = fetcher.chunk(requests.back().chunks.back());
      const uint64_t prev_end = prev.blob_offset + prev.blob_length;
      join = c.blob_offset >= prev_end && c.blob_offset - prev_end <= kMaxStartupGap &&
             c.blob_offset + c.blob_length - request_start <= limits_.startup_request_bytes;
    }
    if (!join) {
      requests.push_back(StartupRequest{std::numeric_limits<uint32_t>::max(), 0, layer, {}});
      request_start = c.blob_offset;
    }
    requests.back().chunks.push_back(chunk);
    requests.back().rank = std::min(requests.back().rank, rank);
  }
  return requests;
}

std::shared_ptr<PrefetchQueue::Layer> PrefetchQueue::Add(std::shared_ptr<ChunkFetcher> fetcher,
                                                         const PrefetchPlan& plan) {
  auto layer = std::make_shared<Layer>();
  layer->fetcher = std::move(fetcher);
  layer->rest = plan.rest && layer->fetcher->chunk_count() > 0;
  std::vector<StartupRequest> requests = SplitStartup(layer, plan);
  {
    std::lock_guard lock(mu_);
    layer->pending_startup = static_cast<int>(requests.size());
    layer->startup_requests = layer->pending_startup;
    for (const StartupRequest& r : requests) {
      for (uint32_t c : r.chunks) layer->startup_bytes += layer->fetcher->chunk(c).blob_length;
    }
    last_mount_at_ = std::chrono::steady_clock::now();
    for (StartupRequest& r : requests) {
      r.seq = next_seq_++;
      startup_.push_back(std::move(r));
    }
    std::sort(startup_.begin(), startup_.end(), [](const StartupRequest& a, const StartupRequest& b) {
      return a.rank != b.rank ? a.rank < b.rank : a.seq < b.seq;
    });
    layers_.push_back(layer);
    Settle(*layer);
  }
  cv_.notify_all();
  return layer;
}

void PrefetchQueue::Remove(const std::shared_ptr<Layer>& layer) {
  std::vector<std::vector<uint32_t>> dropped;
  {
    std::unique_lock lock(mu_);
    layer->removed = true;
    layer->stop = true;
    layer->rest = false;
    for (auto it = startup_.begin(); it != startup_.end();) {
      if (it->layer != layer) {
        ++it;
        continue;
      }
      dropped.push_back(std::move(it->chunks));
      --layer->pending_startup;
      it = startup_.erase(it);
    }
    limiter_->Wake();
    cv_.wait(lock, [&] { return layer->running == 0; });
    layers_.erase(std::remove(layers_.begin(), layers_.end(), layer), layers_.end());
    Settle(*layer);
  }
  for (const auto& chunks : dropped) layer->fetcher->Release(chunks);
  cv_.notify_all();
}

void PrefetchQueue::Settle(Layer& layer) {
  if (layer.pending_startup == 0 && !layer.rest && layer.running == 0) layer.done = true;
}

bool PrefetchQueue::StartingUp(std::chrono::steady_clock::time_point now) const {
  // Whether or not the image has a startup set: until the node's reads go quiet, the rest would
  // only compete with a starting workload for link, CPU and disk.
  if (!last_mount_at_ || now - *last_mount_at_ >= limits_.rest_max_delay) return false;
  return now - limiter_->last_read() < limits_.rest_idle_delay;
}

void PrefetchQueue::NoteMount() {
  std::lock_guard lock(mu_);
  last_mount_at_ = std::chrono::steady_clock::now();
}

uint64_t PrefetchQueue::WhenStarted(std::function<void()> started) {
  std::lock_guard lock(mu_);
  last_mount_at_ = std::chrono::steady_clock::now();
  const uint64_t id = next_hook_++;
  started_hooks_.emplace(id, std::move(started));
  return id;
}

void PrefetchQueue::ForgetStarted(uint64_t id) {
  std::lock_guard lock(mu_);
  started_hooks_.erase(id);
}

void PrefetchQueue::RunStartedHooks(std::chrono::steady_clock::time_point now) {
  if (started_hooks_.empty() || !last_mount_at_ || !BackgroundMayRun(now)) return;
  // Unlike the rest, which may start before the workload's first read, these also wait for that
  // read (up to rest_max_delay): a container may start seconds after its image was pulled.
  const bool read_since_mount = limiter_->last_read() > *last_mount_at_;
  if (!read_since_mount && now - *last_mount_at_ < limits_.rest_max_delay) return;
  // Run under mu_, so that ForgetStarted cannot return while one runs; they are short.
  for (auto& [id, started] : started_hooks_) started();
  started_hooks_.clear();
}

bool PrefetchQueue::BackgroundMayRun(std::chrono::steady_clock::time_point now) const {
  return startup_.empty() && startup_running_ == 0 && !StartingUp(now);
}

bool PrefetchQueue::RestMayRun() {
  std::lock_guard lock(mu_);
  return BackgroundMayRun(std::chrono::steady_clock::now());
}

bool PrefetchQueue::NextRestBatch(RestBatch* batch) {
  // The rest waits until every layer's startup work has run: it would only compete with it.
  const auto now = std::chrono::steady_clock::now();
  if (!BackgroundMayRun(now)) return false;
  for (const auto& layer : layers_) {
    if (!layer->rest || layer->retry_at > now) continue;
    ChunkFetcher& f = *layer->fetcher;
    const uint32_t count = static_cast<uint32_t>(f.chunk_count());
    uint32_t i = layer->cursor;
    while (i < count && f.IsCached(i)) ++i;
    if (i >= count) {
      layer->rest = false;
      Settle(*layer);
      continue;
    }
    uint32_t end = i;
    uint64_t bytes = f.chunk(i).blob_length;
    while (end + 1 < count && !f.IsCached(end + 1) &&
           bytes + f.chunk(end + 1).blob_length <= limits_.rest_request_bytes) {
      bytes += f.chunk(++end).blob_length;
    }
    layer->cursor = end + 1;
    *batch = RestBatch{layer, i, end, bytes};
    return true;
  }
  return false;
}

void PrefetchQueue::RunStartup(std::unique_lock<std::mutex>& lock) {
  StartupRequest r = std::move(startup_.front());
  startup_.erase(startup_.begin());
  ++startup_running_;
  ++r.layer->running;
  lock.unlock();
  absl::Status st = r.layer->fetcher->FetchReserved(r.chunks, limits_.startup_request_bytes, kMaxStartupGap);
  if (!st.ok() && !absl::IsCancelled(st)) {
    // Its readers fetch what they need on demand; the rest phase (if any) fills in the others.
    log::Warn("startup prefetch failed", {{"layer", r.layer->fetcher->layer_name()},
                                          {"chunks", absl::StrCat(r.chunks.front(), "..", r.chunks.back())},
                                          {"error", st.message()}});
  }
  lock.lock();
  --startup_running_;
  --r.layer->running;
  if (--r.layer->pending_startup == 0 && !r.layer->removed) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                          r.layer->added);
    log::Info("startup prefetch done",
              {{"layer", r.layer->fetcher->layer_name()},
               {"requests", absl::StrCat(r.layer->startup_requests)},
               {"mib", absl::StrFormat("%.1f", static_cast<double>(r.layer->startup_bytes) / (1 << 20))},
               {"ms_after_mount", absl::StrCat(ms.count())}});
  }
  Settle(*r.layer);
}

void PrefetchQueue::RunRest(std::unique_lock<std::mutex>& lock, const RestBatch& batch) {
  Layer& layer = *batch.layer;
  ++layer.running;
  lock.unlock();
  absl::Status st = absl::CancelledError("stopped");
  FetchLimiter::PrefetchSlot slot =
      limiter_->AcquirePrefetch(batch.bytes, layer.stop, std::chrono::hours(24));
  if (slot) st = layer.fetcher->FetchOnce(batch.first, batch.last, limits_.rest_request_bytes);
  lock.lock();
  --layer.running;
  // Another worker may have found the layer's cursor at its end meanwhile and ended its rest; a batch
  // to do again starts it anew.
  if (absl::IsAborted(st) && !layer.removed) {
    // It gave way to a container read: not a failure; what did not arrive is fetched later.
    layer.cursor = std::min(layer.cursor, batch.first);
    layer.rest = true;
  } else if (!st.ok() && !absl::IsCancelled(st) && !layer.removed) {
    if (++layer.rest_failures <= kMaxRestFailures) {
      // Back off and try the batch again; on-demand reads still fetch what they need meanwhile.
      layer.rest = true;
      layer.cursor = std::min(layer.cursor, batch.first);
      layer.retry_at =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(500) * layer.rest_failures;
    }
    log::Warn("prefetch failed", {{"layer", layer.fetcher->layer_name()},
                                  {"chunks", absl::StrCat(batch.first, "..", batch.last)},
                                  {"attempt", absl::StrCat(layer.rest_failures)},
                                  {"error", st.message()}});
  }
  Settle(layer);
}

void PrefetchQueue::Work(Phase phase) {
  std::unique_lock lock(mu_);
  while (!stop_) {
    RestBatch batch;
    if (phase == Phase::kRest) RunStartedHooks(std::chrono::steady_clock::now());
    if (phase == Phase::kStartup && !startup_.empty()) {
      RunStartup(lock);
    } else if (phase == Phase::kRest && NextRestBatch(&batch)) {
      RunRest(lock, batch);
    } else {
      // Timed: a rest batch waiting out its backoff becomes ready without a notification.
      cv_.wait_for(lock, std::chrono::milliseconds(200));
      continue;
    }
    cv_.notify_all();
  }
}

}  // namespace tide::fetch
