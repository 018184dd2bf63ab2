#ifndef TIDE_FUSE_PREFETCHER_H_
#define TIDE_FUSE_PREFETCHER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "fuse/chunk_fetcher.h"
#include "fuse/fetch_limiter.h"

namespace tide::fuse {

enum class PrefetchMode { kNone, kStartup, kAll };
absl::StatusOr<PrefetchMode> ParsePrefetchMode(std::string_view text);
std::string_view PrefetchModeName(PrefetchMode mode);

// Chunk id ranges [first, last] to prefetch, in order: the startup set, then (mode all) the rest.
using ChunkRanges = std::vector<std::pair<uint32_t, uint32_t>>;
ChunkRanges PrefetchPlan(PrefetchMode mode, const std::vector<uint32_t>& startup_chunks,
                         uint32_t chunk_count);

// Background fill of one layer's cache after mount, in large sequential requests, within the node's
// shared limits and behind on-demand reads. Stops (and joins) on destruction.
class Prefetcher {
 public:
  Prefetcher(std::shared_ptr<ChunkFetcher> fetcher, std::shared_ptr<FetchLimiter> limiter, ChunkRanges plan,
             uint64_t request_bytes = 8 << 20);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  bool done() const { return done_; }
  // Waits until the plan is finished (for tests and `tidectl mount --wait`); false on timeout.
  bool WaitDone(std::chrono::milliseconds timeout) const;

 private:
  void Run();
  void FetchBatch(uint32_t first, uint32_t last);

  const std::shared_ptr<ChunkFetcher> fetcher_;
  const std::shared_ptr<FetchLimiter> limiter_;
  const ChunkRanges plan_;
  const uint64_t request_bytes_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace tide::fuse

#endif  // TIDE_FUSE_PREFETCHER_H_
