#ifndef TIDE_FETCH_PREFETCH_QUEUE_H_
#define TIDE_FETCH_PREFETCH_QUEUE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "fetch/chunk_fetcher.h"
#include "fetch/fetch_limiter.h"

namespace tide::fetch {

// What to prefetch of one layer: its startup chunks, each with its rank in the image's startup access
// order (smaller: needed earlier; comparable across the layers of one image), then, with `rest`, every
// other chunk.
struct PrefetchPlan {
  std::vector<uint32_t> startup;
  std::vector<uint32_t> ranks;  // parallel to startup
  bool rest = false;
  bool empty() const { return startup.empty() && !rest; }
};

// The node's one prefetch queue, shared by every mounted layer. Startup work of all layers comes
// first, ordered by rank across layers, as a few large streamed range requests whose chunks are
// reserved at once so the workload's reads wait for them instead of fetching them piecemeal. Only when
// no startup work is left does the rest of each layer follow, in blob order, behind on-demand reads
// and within the node's concurrency and bandwidth limits. Thread-safe.
class PrefetchQueue {
 public:
  struct Layer;

  PrefetchQueue(std::shared_ptr<FetchLimiter> limiter, FetchLimits limits);
  ~PrefetchQueue();
  PrefetchQueue(const PrefetchQueue&) = delete;
  PrefetchQueue& operator=(const PrefetchQueue&) = delete;

  // Queues a layer's plan. Its startup chunks are reserved before this returns.
  std::shared_ptr<Layer> Add(std::shared_ptr<ChunkFetcher> fetcher, const PrefetchPlan& plan);
  // Drops the layer's pending work, gives back its reservations and waits for its running requests.
  void Remove(const std::shared_ptr<Layer>& layer);
  // Every request of the layer's plan has run (successfully or not).
  static bool Done(const Layer& layer);

  const std::shared_ptr<FetchLimiter>& limiter() const { return limiter_; }
  // A layer was mounted that queues nothing (its rest is fetched elsewhere): a workload may be
  // starting, as Add notes for the layers it queues.
  void NoteMount();
  // Whether background work may run now, by the rest phase's rules: no startup work queued or
  // running, and the node's reads quiet since the last mount. For rest fetched outside the queue.
  bool RestMayRun();
  // Calls `started` once, on a queue worker, when the workload this mount starts is past its
  // startup: the node has read something since the mount, its reads have then been quiet for
  // rest_idle_delay, and no startup set is being fetched; or rest_max_delay has passed since the
  // mount. The mount counts as NoteMount does. After ForgetStarted(id) returns, `started` is not
  // running and never runs.
  uint64_t WhenStarted(std::function<void()> started);
  void ForgetStarted(uint64_t id);

 private:
  struct StartupRequest {
    uint32_t rank = 0;
    uint64_t seq = 0;
    std::shared_ptr<Layer> layer;
    std::vector<uint32_t> chunks;  // ascending blob order
  };
  struct RestBatch {
    std::shared_ptr<Layer> layer;
    uint32_t first = 0;
    uint32_t last = 0;
    uint64_t bytes = 0;
  };

  // startup_streams startup workers at normal priority and max_prefetch_concurrency rest workers as
  // background threads: the worker counts bound how many requests of each kind are in flight.
  enum class Phase { kStartup, kRest };
  void Work(Phase phase);
  void RunStartup(std::unique_lock<std::mutex>& lock);
  void RunRest(std::unique_lock<std::mutex>& lock, const RestBatch& batch);
  // A workload may still be starting: a layer was mounted lately and the node's reads have not gone
  // quiet.
  bool StartingUp(std::chrono::steady_clock::time_point now) const;
  // The rest phase's rule: no startup work queued or running, and not StartingUp.
  bool BackgroundMayRun(std::chrono::steady_clock::time_point now) const;
  bool NextRestBatch(RestBatch* batch);
  void RunStartedHooks(std::chrono::steady_clock::time_point now);
  void Settle(Layer& layer);
  std::vector<StartupRequest> SplitStartup(const std::shared_ptr<Layer>& layer, const PrefetchPlan& plan);

  const std::shared_ptr<FetchLimiter> limiter_;
  const FetchLimits limits_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  uint64_t next_seq_ = 0;
  // When a layer was last mounted (queued): a workload is probably starting on it.
  std::optional<std::chrono::steady_clock::time_point> last_mount_at_;
  std::vector<StartupRequest> startup_;  // sorted by (rank, seq)
  std::vector<std::shared_ptr<Layer>> layers_;
  int startup_running_ = 0;  // the rest waits for these too
  std::map<uint64_t, std::function<void()>> started_hooks_;
  uint64_t next_hook_ = 1;
  std::vector<std::thread> workers_;
};

}  // namespace tide::fetch

#endif  // TIDE_FETCH_PREFETCH_QUEUE_H_
