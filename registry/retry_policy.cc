#include "registry/retry_policy.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <random>
#include <string>

namespace tide::registry {

std::optional<std::chrono::milliseconds> RetryState::NextDelay(
    std::optional<std::chrono::milliseconds> retry_after) {
  if (attempts_ >= options_.max_attempts) return std::nullopt;
  std::chrono::milliseconds delay;
  if (retry_after) {
    delay = *retry_after;
  } else {
    int shift = std::min(attempts_ - 1, 20);
    int64_t cap = std::min<int64_t>(options_.max_backoff.count(), options_.initial_backoff.count() << shift);
    thread_local std::minstd_rand rng{std::random_device{}()};
    std::uniform_int_distribution<int64_t> jitter(cap / 2, std::max<int64_t>(cap, 1));
    delay = std::chrono::milliseconds(jitter(rng));
  }
  if (waited_ + delay > options_.budget) return std::nullopt;
  waited_ += delay;
  ++attempts_;
  return delay;
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value) {
  if (value.empty()) return std::nullopt;
  // A registry's number is capped before it is scaled: "9223372036854775807" seconds must not
  // overflow into a negative wait (found by registry_fuzz_responses).
  constexpr int64_t kMaxSeconds = 24 * 3600;
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && end == value.data() + value.size()) {
    if (seconds < 0) return std::nullopt;
    return std::chrono::milliseconds(std::min(seconds, kMaxSeconds) * 1000);
  }
  std::tm tm{};
  std::string text(value);
  if (strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) == nullptr) return std::nullopt;
  int64_t at = timegm(&tm);
  int64_t now = std::time(nullptr);
  if (at < now) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(std::min(at - now, kMaxSeconds) * 1000);
}

}  // namespace tide::registry
