#ifndef TIDE_FETCH_FETCH_LIMITER_H_
#define TIDE_FETCH_FETCH_LIMITER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace tide::fetch {

enum class FetchPriority { kOnDemand, kPrefetch };

struct FetchLimits {
  int max_prefetch_concurrency = 4;        // background (rest) range requests in flight per node
  uint64_t prefetch_bytes_per_second = 0;  // 0: unlimited; background prefetch only
  // Startup sets: streamed requests in flight per node, and the most blob bytes one request covers.
  // Few streams keep the bytes arriving in the order the workload needs them.
  int startup_streams = 2;
  uint64_t startup_request_bytes = 32 << 20;
  uint64_t rest_request_bytes = 8 << 20;
  // Reads whose requests carry read-ahead, in flight per node (ReadAheadWorkers threads). A read that
  // finds them all busy fetches its own chunks and no read-ahead.
  int read_ahead_streams = 4;
  // Threads that walk shared objects' dependencies (fuse::LoaderWalk), per node. Each waits on one
  // library's round trip at a time, and an import of torch or OpenCV loads hundreds one after
  // another: the walk must stay ahead of the loader.
  int loader_walkers = 8;
  // While a workload may be starting (a layer was mounted recently), the rest waits until reads on
  // the node have been quiet for rest_idle_delay, or at most rest_max_delay after the last mount:
  // fetching it earlier only competes with the startup for link, CPU and disk.
  std::chrono::milliseconds rest_idle_delay{1000};
  std::chrono::milliseconds rest_max_delay{30000};
};

// One per node, shared by every mount: keeps background prefetch within its concurrency and
// bandwidth budget and out of the way of on-demand reads, which never wait on it.
class FetchLimiter {
 public:
  explicit FetchLimiter(FetchLimits limits) : limits_(limits) {}

  // Marks an on-demand fetch in progress; prefetch does not start new requests meanwhile.
  class OnDemandScope {
   public:
    explicit OnDemandScope(FetchLimiter& l) : l_(l) { l_.BeginOnDemand(); }
    ~OnDemandScope() { l_.EndOnDemand(); }
    OnDemandScope(const OnDemandScope&) = delete;
    OnDemandScope& operator=(const OnDemandScope&) = delete;

   private:
    FetchLimiter& l_;
  };

  // Holds one prefetch slot; bytes fetched under it are charged to the bandwidth budget.
  class PrefetchSlot {
   public:
    PrefetchSlot() = default;
    PrefetchSlot(PrefetchSlot&& o) noexcept : l_(o.l_) { o.l_ = nullptr; }
    PrefetchSlot& operator=(PrefetchSlot&&) = delete;
    ~PrefetchSlot() {
      if (l_) l_->ReleasePrefetch();
    }
    explicit operator bool() const { return l_ != nullptr; }

   private:
    friend class FetchLimiter;
    explicit PrefetchSlot(FetchLimiter* l) : l_(l) {}
    FetchLimiter* l_ = nullptr;
  };

  // Waits for a free slot, no on-demand fetch running and bandwidth budget for `bytes`; gives up
  // (empty slot) when `stop` becomes true or after `max_wait`.
  PrefetchSlot AcquirePrefetch(uint64_t bytes, const std::atomic<bool>& stop,
                               std::chrono::milliseconds max_wait);
  // Wakes AcquirePrefetch waiters so they re-check their stop flag.
  void Wake();

  int on_demand_active() const { return on_demand_.load(std::memory_order_relaxed); }
  // Lock-free: whether a container read is waiting on a fetch right now. Background transfers check
  // it as their bytes arrive and stop at once (ChunkFetcher), so a read never queues behind them.
  bool on_demand_waiting() const { return on_demand_.load(std::memory_order_relaxed) > 0; }

  // Every read of a mounted file notes itself (one relaxed store), so background prefetch can tell
  // whether a workload is still reading; a thread inside a NotWorkloadScope does not.
  void NoteRead() {
    if (not_workload_) return;
    last_read_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                        std::memory_order_relaxed);
  }
  // While one is alive, this thread's reads are not the workload's: those of the page-cache warmer
  // (fuse::PageCacheWarmer), which follows a startup set through the mount. They neither keep the node
  // starting up (the rest phase waits for reads to go quiet) nor count as the workload's first read
  // (WhenStarted): a container may start seconds after its layers were mounted and warmed.
  class NotWorkloadScope {
   public:
    NotWorkloadScope() : was_(not_workload_) { not_workload_ = true; }
    ~NotWorkloadScope() { not_workload_ = was_; }
    NotWorkloadScope(const NotWorkloadScope&) = delete;
    NotWorkloadScope& operator=(const NotWorkloadScope&) = delete;

   private:
    const bool was_;
  };

  std::chrono::steady_clock::time_point last_read() const {
    return std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(last_read_ns_.load(std::memory_order_relaxed)));
  }

 private:
  void BeginOnDemand();
  void EndOnDemand();
  void ReleasePrefetch();

  const FetchLimits limits_;
  inline static thread_local bool not_workload_ = false;
  std::atomic<std::chrono::steady_clock::rep> last_read_ns_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  // Changed under mu_ (AcquirePrefetch waits on it), read without it by on_demand_waiting().
  std::atomic<int> on_demand_{0};
  int prefetching_ = 0;
  // Token bucket in bytes; refilled at prefetch_bytes_per_second, capped at one second's worth.
  double tokens_ = 0;
  std::chrono::steady_clock::time_point last_refill_ = std::chrono::steady_clock::now();
};

}  // namespace tide::fetch

#endif  // TIDE_FETCH_FETCH_LIMITER_H_
