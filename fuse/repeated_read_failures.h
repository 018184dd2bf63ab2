#ifndef TIDE_FUSE_REPEATED_READ_FAILURES_H_
#define TIDE_FUSE_REPEATED_READ_FAILURES_H_

#include <sys/types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "format/layer_index.h"

namespace tide::fuse {

// The kernel asks twice before a read() fails: when a read-ahead request fails, the reading thread
// asks again for the page it needs, at once. Each request waiting out read_timeout made a failing
// read() block for twice read_timeout (three times when the read spans two read-ahead windows).
// A request that repeats a failure (same thread, same file, inside the failed range, soon after)
// gets a fresh fetch with kRepeatTimeout instead: the registry may have recovered (a stalled
// connection, a restart), and the reader has already waited its read_timeout for this range.
//
// A failure shortens one repeat, the kernel's retry; later reads of the range, by this thread or
// another, wait the whole read_timeout again.
class RepeatedReadFailures {
 public:
  using Clock = std::chrono::steady_clock;
  // A retry queued behind other requests still counts as one.
  static constexpr std::chrono::milliseconds kWindow{2000};
  // Enough for a healthy registry to serve a chunk over a fresh connection.
  static constexpr std::chrono::milliseconds kRepeatTimeout{1000};

  // `tid`: the reading thread as the FUSE request names it (0 when the daemon cannot see it: not
  // remembered).
  void Note(pid_t tid, format::EntryId id, uint64_t offset, uint64_t length, Clock::time_point now);
  // Whether a request repeats a failure noted within kWindow; the failure is consumed. Lock-free
  // unless a failure was noted within kWindow.
  bool TakeRepeat(pid_t tid, format::EntryId id, uint64_t offset, Clock::time_point now);

 private:
  struct Failure {
    pid_t tid = 0;
    format::EntryId id = 0;
    uint64_t offset = 0;
    uint64_t end = 0;
    Clock::time_point at;
  };
  // Threads failing at once: one per FUSE worker is plenty; the oldest failure is overwritten.
  static constexpr size_t kSlots = 16;

  std::atomic<Clock::rep> last_noted_{Clock::time_point::min().time_since_epoch().count()};
  absl::Mutex mu_;
  std::array<Failure, kSlots> failures_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tide::fuse

#endif  // TIDE_FUSE_REPEATED_READ_FAILURES_H_
