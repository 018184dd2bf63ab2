#include "registry/retry_policy.h"

#include <catch2/catch.hpp>
#include <ctime>

namespace tide::registry {
namespace {

using std::chrono::milliseconds;

TEST_CASE("Backoff grows, stays within its step and stops at max attempts") {
  RetryOptions options{.max_attempts = 4,
                       .initial_backoff = milliseconds(100),
                       .max_backoff = milliseconds(250),
                       .budget = milliseconds(10000)};
  RetryState state(options);
  auto d1 = state.NextDelay(std::nullopt);
  REQUIRE(d1);
  CHECK(*d1 >= milliseconds(50));
  CHECK(*d1 <= milliseconds(100));
  auto d2 = state.NextDelay(std::nullopt);
  REQUIRE(d2);
  CHECK(*d2 >= milliseconds(100));
  CHECK(*d2 <= milliseconds(200));
  auto d3 = state.NextDelay(std::nullopt);
  REQUIRE(d3);
  CHECK(*d3 <= milliseconds(250));  // capped
  CHECK_FALSE(state.NextDelay(std::nullopt));
  CHECK(state.attempts() == 4);
}

TEST_CASE("Retry-After is honoured but never beyond the budget") {
  RetryOptions options{.max_attempts = 10,
                       .initial_backoff = milliseconds(10),
                       .max_backoff = milliseconds(20),
                       .budget = milliseconds(3000)};
  RetryState state(options);
  auto d = state.NextDelay(milliseconds(2000));
  REQUIRE(d);
  CHECK(*d == milliseconds(2000));
  CHECK_FALSE(state.NextDelay(milliseconds(2000)));  // would exceed 3 s in total
}

TEST_CASE("Retry-After parses seconds and HTTP dates") {
  CHECK(ParseRetryAfter("3") == milliseconds(3000));
  CHECK(ParseRetryAfter("0") == milliseconds(0));
  CHECK_FALSE(ParseRetryAfter("soon"));
  CHECK_FALSE(ParseRetryAfter("-1"));
  CHECK(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == milliseconds(0));  // in the past
  std::time_t future = std::time(nullptr) + 100;
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&future));
  auto d = ParseRetryAfter(buf);
  REQUIRE(d);
  CHECK(*d >= milliseconds(98000));
  CHECK(*d <= milliseconds(100000));
}

TEST_CASE("A huge Retry-After is capped at a day, never overflowed into a negative wait") {
  const auto day = std::chrono::milliseconds(24LL * 3600 * 1000);
  CHECK(ParseRetryAfter("9223372036854775807") == day);
  CHECK(ParseRetryAfter("9223372036854776") == day);
  CHECK(ParseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT") == day);
  CHECK(ParseRetryAfter("86399") == std::chrono::milliseconds(86399000));
}

}  // namespace
}  // namespace tide::registry
