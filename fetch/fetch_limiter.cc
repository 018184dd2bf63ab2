#include "fetch/fetch_limiter.h"

#include <algorithm>

namespace tide::fetch {

void FetchLimiter::BeginOnDemand() {
  std::lock_guard lock(mu_);
  on_demand_.fetch_add(1, std::memory_order_relaxed);
}

void FetchLimiter::EndOnDemand() {
  {
    std::lock_guard lock(mu_);
    on_demand_.fetch_sub(1, std::memory_order_relaxed);
  }
  cv_.notify_all();
}

void FetchLimiter::ReleasePrefetch() {
  {
    std::lock_guard lock(mu_);
    --prefetching_;
  }
  cv_.notify_all();
}

void FetchLimiter::Wake() {
  std::lock_guard lock(mu_);
  cv_.notify_all();
}

FetchLimiter::PrefetchSlot FetchLimiter::AcquirePrefetch(uint64_t bytes, const std::atomic<bool>& stop,
                                                         std::chrono::milliseconds max_wait) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + max_wait;
  const double rate = static_cast<double>(limits_.prefetch_bytes_per_second);
  std::unique_lock lock(mu_);
  while (true) {
    if (stop) return PrefetchSlot();
    auto now = Clock::now();
    if (rate > 0) {
      double elapsed = std::chrono::duration<double>(now - last_refill_).count();
      // A request larger than a second's budget still goes through once the bucket is full.
      double cap = std::max(rate, static_cast<double>(bytes));
      tokens_ = std::min(cap, tokens_ + elapsed * rate);
      last_refill_ = now;
    }
    bool budget = rate <= 0 || tokens_ >= static_cast<double>(bytes);
    if (on_demand_ == 0 && prefetching_ < limits_.max_prefetch_concurrency && budget) {
      if (rate > 0) tokens_ -= static_cast<double>(bytes);
      ++prefetching_;
      return PrefetchSlot(this);
    }
    if (now >= deadline) return PrefetchSlot();
    auto wait = std::chrono::milliseconds(50);
    if (!budget) {
      auto need = std::chrono::duration<double>((static_cast<double>(bytes) - tokens_) / rate);
      wait = std::max(wait, std::chrono::duration_cast<std::chrono::milliseconds>(need));
    }
    cv_.wait_until(lock, std::min(deadline, now + wait));
  }
}

}  // namespace tide::fetch
