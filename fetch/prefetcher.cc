#include "fetch/prefetcher.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide::fetch {

PrefetchPlan MakePrefetchPlan(PrefetchMode mode, std::span<const uint32_t> startup,
                              std::span<const uint32_t> ranks, uint32_t chunk_count) {
  PrefetchPlan plan;
  if (mode == PrefetchMode::kNone || chunk_count == 0) return plan;
  const bool ranked = ranks.size() == startup.size();
  for (size_t i = 0; i < startup.size(); ++i) {
    if (startup[i] >= chunk_count) continue;
    plan.startup.push_back(startup[i]);
    plan.ranks.push_back(ranked ? ranks[i] : static_cast<uint32_t>(i));
  }
  plan.rest = mode == PrefetchMode::kAll;
  return plan;
}

Prefetcher::Prefetcher(std::shared_ptr<PrefetchQueue> queue, std::shared_ptr<ChunkFetcher> fetcher,
                       const PrefetchPlan& plan)
    : queue_(std::move(queue)), layer_(queue_->Add(std::move(fetcher), plan)) {}

Prefetcher::~Prefetcher() { queue_->Remove(layer_); }

bool Prefetcher::WaitDone(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace tide::fetch
