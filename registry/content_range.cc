#include "registry/content_range.h"

#include <charconv>

namespace tide::registry {
namespace {

// Digits only: from_chars would also take a sign or leave trailing bytes.
bool ParseNumber(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::optional<ContentRange> ParseContentRange(std::string_view value) {
  constexpr std::string_view kUnit = "bytes ";
  if (!value.starts_with(kUnit)) return std::nullopt;
  value.remove_prefix(kUnit.size());
  const size_t dash = value.find('-');
  const size_t slash = value.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) return std::nullopt;
  ContentRange r;
  if (!ParseNumber(value.substr(0, dash), &r.first) ||
      !ParseNumber(value.substr(dash + 1, slash - dash - 1), &r.last) || r.first > r.last) {
    return std::nullopt;
  }
  std::string_view total = value.substr(slash + 1);
  if (total != "*") {
    uint64_t t = 0;
    if (!ParseNumber(total, &t) || r.last >= t) return std::nullopt;
    r.total = t;
  }
  return r;
}

}  // namespace tide::registry
