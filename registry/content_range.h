#ifndef TIDE_REGISTRY_CONTENT_RANGE_H_
#define TIDE_REGISTRY_CONTENT_RANGE_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace tide::registry {

// A 206 response's Content-Range: bytes first..last (inclusive) of a resource of `total` bytes,
// when the server said (not "*").
struct ContentRange {
  uint64_t first = 0;
  uint64_t last = 0;
  std::optional<uint64_t> total;
};

// Parses "bytes FIRST-LAST/TOTAL" or "bytes FIRST-LAST/*" (RFC 9110 14.4). nullopt when malformed,
// when first > last, or when last is not inside a known total: the registry is untrusted, and a
// range it gets wrong must not be used to place bytes.
std::optional<ContentRange> ParseContentRange(std::string_view value);

}  // namespace tide::registry

#endif  // TIDE_REGISTRY_CONTENT_RANGE_H_
