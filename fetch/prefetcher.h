#ifndef TIDE_FETCH_PREFETCHER_H_
#define TIDE_FETCH_PREFETCHER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "fetch/chunk_fetcher.h"
#include "fetch/prefetch_mode.h"
#include "fetch/prefetch_queue.h"

namespace tide::fetch {

// The plan for a layer: its startup chunks (in access order; `ranks` parallel to them when the index
// orders them across layers, else their position is their rank), then with mode all the rest.
PrefetchPlan MakePrefetchPlan(PrefetchMode mode, std::span<const uint32_t> startup,
                              std::span<const uint32_t> ranks, uint32_t chunk_count);

// One layer's part in the node's PrefetchQueue, from mount to unmount: queues the plan on
// construction; on destruction drops what has not run and waits for its running requests.
class Prefetcher {
 public:
  Prefetcher(std::shared_ptr<PrefetchQueue> queue, std::shared_ptr<ChunkFetcher> fetcher,
             const PrefetchPlan& plan);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  bool done() const { return PrefetchQueue::Done(*layer_); }
  // Waits until the plan has run (for tests and benchmarks); false on timeout.
  bool WaitDone(std::chrono::milliseconds timeout) const;

 private:
  const std::shared_ptr<PrefetchQueue> queue_;
  std::shared_ptr<PrefetchQueue::Layer> layer_;
};

}  // namespace tide::fetch

#endif  // TIDE_FETCH_PREFETCHER_H_
