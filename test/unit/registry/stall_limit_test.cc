#include "registry/stall_limit.h"

#include <catch2/catch.hpp>

#include "registry/blob_range_reader.h"

namespace tide::registry {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("a transfer nobody waits on keeps the configured stall limit") {
  const auto now = std::chrono::steady_clock::now();
  CHECK(StallLimit(seconds(30), kNoDeadline, now) == seconds(30));
}

TEST_CASE("a reader's attempt may stall for a third of the reader's time left, at least a second") {
  const auto now = std::chrono::steady_clock::now();
  CHECK(StallLimit(seconds(30), now + seconds(30), now) == seconds(10));
  CHECK(StallLimit(seconds(30), now + seconds(3), now) == seconds(1));
  CHECK(StallLimit(seconds(30), now + milliseconds(1200), now) == seconds(1));
  // A shorter configured limit (a mirror's) stays.
  CHECK(StallLimit(seconds(5), now + seconds(60), now) == seconds(5));
  // Past the deadline the request's own deadline ends it; the limit is left alone.
  CHECK(StallLimit(seconds(30), now - seconds(1), now) == seconds(30));
}

TEST_CASE("the stall limit within a time is a third of it, at least a second") {
  CHECK(StallLimitWithin(seconds(30)) == seconds(10));
  CHECK(StallLimitWithin(seconds(3)) == seconds(1));
  CHECK(StallLimitWithin(milliseconds(500)) == seconds(1));
}

}  // namespace
}  // namespace tide::registry
