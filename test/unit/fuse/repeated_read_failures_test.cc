#include "fuse/repeated_read_failures.h"

#include <catch2/catch.hpp>

namespace tide::fuse {
namespace {

using Clock = RepeatedReadFailures::Clock;
using std::chrono::milliseconds;

TEST_CASE("a failed read's retry from the same thread is a repeat, once") {
  RepeatedReadFailures failures;
  const Clock::time_point t = Clock::now();
  failures.Note(42, 7, 1 << 20, 256 << 10, t);

  CHECK(failures.TakeRepeat(42, 7, (1 << 20) + 4096, t + milliseconds(5)));
  // Consumed: the next read of the range waits the whole read_timeout again.
  CHECK(!failures.TakeRepeat(42, 7, (1 << 20) + 4096, t + milliseconds(6)));
}

TEST_CASE("other threads, files, offsets and late retries are not repeats") {
  RepeatedReadFailures failures;
  const Clock::time_point t = Clock::now();
  failures.Note(42, 7, 8192, 4096, t);

  CHECK(!failures.TakeRepeat(43, 7, 8192, t));         // another thread
  CHECK(!failures.TakeRepeat(42, 8, 8192, t));         // another file
  CHECK(!failures.TakeRepeat(42, 7, 4096, t));         // before the failed range
  CHECK(!failures.TakeRepeat(42, 7, 8192 + 4096, t));  // just past it
  CHECK(!failures.TakeRepeat(42, 7, 8192, t + RepeatedReadFailures::kWindow + milliseconds(1)));
  // None of those consumed the failure.
  CHECK(failures.TakeRepeat(42, 7, 8192, t + milliseconds(1)));
}

TEST_CASE("a reader the daemon cannot name (pid 0) never repeats") {
  RepeatedReadFailures failures;
  const Clock::time_point t = Clock::now();
  failures.Note(0, 7, 0, 4096, t);
  CHECK(!failures.TakeRepeat(0, 7, 0, t));
}

TEST_CASE("more threads failing at once than slots: the oldest failures are forgotten") {
  RepeatedReadFailures failures;
  const Clock::time_point t = Clock::now();
  for (pid_t tid = 1; tid <= 20; ++tid) failures.Note(tid, 1, 0, 4096, t);
  CHECK(!failures.TakeRepeat(1, 1, 0, t));
  CHECK(!failures.TakeRepeat(4, 1, 0, t));
  for (pid_t tid = 5; tid <= 20; ++tid) CHECK(failures.TakeRepeat(tid, 1, 0, t));
}

}  // namespace
}  // namespace tide::fuse
