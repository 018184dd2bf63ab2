#include "registry/content_range.h"

#include <catch2/catch.hpp>

namespace tide::registry {
namespace {

TEST_CASE("Content-Range: well-formed ranges") {
  auto r = ParseContentRange("bytes 0-99/1000");
  REQUIRE(r.has_value());
  CHECK(r->first == 0);
  CHECK(r->last == 99);
  CHECK(r->total == std::optional<uint64_t>(1000));
  auto unknown = ParseContentRange("bytes 5-5/*");
  REQUIRE(unknown.has_value());
  CHECK_FALSE(unknown->total.has_value());
  auto big = ParseContentRange("bytes 18446744073709551614-18446744073709551614/18446744073709551615");
  REQUIRE(big.has_value());
}

TEST_CASE("Content-Range: anything a registry gets wrong is refused") {
  for (const char* bad :
       {"", "bytes", "bytes 1-2", "items 0-1/2", "bytes -1-2/3", "bytes +1-2/3", "bytes 1--2/3",
        "bytes 2-1/3", "bytes 0-3/3", "bytes 0-1/0", "bytes 0-1/x", "bytes 0-1/ 2", "bytes 0x1-2/3",
        "bytes 0-18446744073709551616/*", "bytes 1/2-3", "bytes 0-1/2/3"}) {
    INFO(bad);
    CHECK_FALSE(ParseContentRange(bad).has_value());
  }
}

}  // namespace
}  // namespace tide::registry
