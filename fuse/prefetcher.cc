#include "fuse/prefetcher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"
#include "spdlog/spdlog.h"

namespace tide::fuse {

absl::StatusOr<PrefetchMode> ParsePrefetchMode(std::string_view text) {
  if (text == "none") return PrefetchMode::kNone;
  if (text == "startup") return PrefetchMode::kStartup;
  if (text == "all") return PrefetchMode::kAll;
  return absl::InvalidArgumentError(
      absl::StrCat("prefetch mode \"", Sv(text), "\": expected none, startup or all"));
}

std::string_view PrefetchModeName(PrefetchMode mode) {
  switch (mode) {
    case PrefetchMode::kNone:
      return "none";
    case PrefetchMode::kStartup:
      return "startup";
    case PrefetchMode::kAll:
      return "all";
  }
  return "?";
}

ChunkRanges PrefetchPlan(PrefetchMode mode, const std::vector<uint32_t>& startup_chunks,
                         uint32_t chunk_count) {
  ChunkRanges plan;
  if (mode == PrefetchMode::kNone || chunk_count == 0) return plan;
  std::vector<uint32_t> startup;
  for (uint32_t c : startup_chunks) {
    if (c < chunk_count) startup.push_back(c);
  }
  std::sort(startup.begin(), startup.end());
  startup.erase(std::unique(startup.begin(), startup.end()), startup.end());
  for (uint32_t c : startup) {
    if (!plan.empty() && plan.back().second + 1 == c) {
      plan.back().second = c;
    } else {
      plan.emplace_back(c, c);
    }
  }
  if (mode == PrefetchMode::kAll) {
    // The rest is fetched in blob order; chunks already fetched are skipped cheaply.
    plan.emplace_back(0, chunk_count - 1);
  }
  return plan;
}

Prefetcher::Prefetcher(std::shared_ptr<ChunkFetcher> fetcher, std::shared_ptr<FetchLimiter> limiter,
                       ChunkRanges plan, uint64_t request_bytes)
    : fetcher_(std::move(fetcher)),
      limiter_(std::move(limiter)),
      plan_(std::move(plan)),
      request_bytes_(request_bytes) {
  thread_ = std::thread([this] { Run(); });
}

Prefetcher::~Prefetcher() {
  stop_ = true;
  limiter_->Wake();
  thread_.join();
}

bool Prefetcher::WaitDone(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done_) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void Prefetcher::FetchBatch(uint32_t first, uint32_t last) {
  uint64_t bytes = 0;
  for (uint32_t i = first; i <= last; ++i) bytes += fetcher_->chunk(i).blob_length;
  // Retry a failed batch a few times with backoff; on-demand reads still fetch what they need.
  for (int attempt = 0; attempt < 5 && !stop_; ++attempt) {
    FetchLimiter::PrefetchSlot slot = limiter_->AcquirePrefetch(bytes, stop_, std::chrono::hours(24));
    if (!slot) return;
    absl::Status st = fetcher_->FetchOnce(first, last, request_bytes_);
    if (st.ok() || absl::IsCancelled(st)) return;
    spdlog::warn("prefetch of layer {} chunks {}..{} failed (attempt {}): {}", fetcher_->layer_name(), first,
                 last, attempt + 1, Sv(st.message()));
    std::this_thread::sleep_for(std::chrono::milliseconds(500) * (attempt + 1));
  }
}

void Prefetcher::Run() {
  for (const auto& [first, last] : plan_) {
    uint32_t i = first;
    while (i <= last && !stop_) {
      while (i <= last && fetcher_->IsCached(i)) ++i;
      if (i > last) break;
      uint32_t end = i;
      uint64_t bytes = fetcher_->chunk(i).blob_length;
      while (end + 1 <= last && !fetcher_->IsCached(end + 1) &&
             bytes + fetcher_->chunk(end + 1).blob_length <= request_bytes_) {
        bytes += fetcher_->chunk(++end).blob_length;
      }
      FetchBatch(i, end);
      i = end + 1;
    }
    if (stop_) return;
  }
  done_ = true;
}

}  // namespace tide::fuse
