#include "fuse/repeated_read_failures.h"

namespace tide::fuse {

void RepeatedReadFailures::Note(pid_t tid, format::EntryId id, uint64_t offset, uint64_t length,
                                Clock::time_point now) {
  if (tid == 0 || length == 0) return;
  absl::MutexLock lock(&mu_);
  failures_[next_] = {.tid = tid, .id = id, .offset = offset, .end = offset + length, .at = now};
  next_ = (next_ + 1) % kSlots;
  last_noted_.store(now.time_since_epoch().count(), std::memory_order_release);
}

bool RepeatedReadFailures::TakeRepeat(pid_t tid, format::EntryId id, uint64_t offset, Clock::time_point now) {
  const Clock::time_point last{Clock::duration{last_noted_.load(std::memory_order_acquire)}};
  if (tid == 0 || now - last > kWindow) return false;
  absl::MutexLock lock(&mu_);
  for (Failure& f : failures_) {
    if (f.tid != tid || f.id != id || offset < f.offset || offset >= f.end) continue;
    if (f.at > now || now - f.at > kWindow) continue;
    f = Failure{};
    return true;
  }
  return false;
}

}  // namespace tide::fuse
