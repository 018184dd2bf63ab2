#ifndef TIDE_REGISTRY_RETRY_POLICY_H_
#define TIDE_REGISTRY_RETRY_POLICY_H_

#include <chrono>
#include <optional>
#include <string_view>

namespace tide::registry {

struct RetryOptions {
  int max_attempts = 6;  // including the first
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10000};
  // Total time one operation may spend waiting between attempts; Retry-After beyond it gives up.
  std::chrono::milliseconds budget{60000};
};

// Tracks one operation's attempts against RetryOptions. Backoff is exponential with jitter (between half and
// all of each step) so many clients retrying at once do not hit the registry in lockstep.
class RetryState {
 public:
  explicit RetryState(const RetryOptions& options) : options_(options) {}

  // Returns how long to wait before the next attempt, or nullopt once the attempts or the budget
  // are spent. retry_after is the server's Retry-After, if it sent one.
  std::optional<std::chrono::milliseconds> NextDelay(std::optional<std::chrono::milliseconds> retry_after);
  int attempts() const { return attempts_; }

 private:
  const RetryOptions& options_;
  int attempts_ = 1;
  std::chrono::milliseconds waited_{0};
};

// Parses a Retry-After value: delta seconds or an HTTP-date, capped at a day.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value);

}  // namespace tide::registry

#endif  // TIDE_REGISTRY_RETRY_POLICY_H_
