// libFuzzer target: the parsers of what a registry answers with: WWW-Authenticate challenges,
// Content-Range of ranged reads, Retry-After. The input is one header value, tried as each.

#include <cctype>
#include <chrono>
#include <string_view>

#include "registry/content_range.h"
#include "registry/retry_policy.h"
#include "registry/www_authenticate.h"
#include "test/fuzz/fuzz_check.h"

namespace {

bool IsLower(std::string_view s) {
  for (unsigned char c : s) {
    if (std::isupper(c)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view value(reinterpret_cast<const char*>(data), size);
  for (const auto& challenge : tide::registry::ParseWwwAuthenticate(value)) {
    FUZZ_CHECK(!challenge.scheme.empty() && IsLower(challenge.scheme));
    for (const auto& [name, param] : challenge.params) FUZZ_CHECK(!name.empty() && IsLower(name));
  }
  if (auto range = tide::registry::ParseContentRange(value)) {
    FUZZ_CHECK(range->first <= range->last);
    FUZZ_CHECK(!range->total || range->last < *range->total);
  }
  if (auto wait = tide::registry::ParseRetryAfter(value)) FUZZ_CHECK(wait->count() >= 0);
  return 0;
}
