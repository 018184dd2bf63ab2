#ifndef TIDE_FETCH_PREFETCH_MODE_H_
#define TIDE_FETCH_PREFETCH_MODE_H_

#include <string_view>

#include "absl/status/statusor.h"

namespace tide::fetch {

// What a node prefetches of a mounted layer: nothing, its startup set, or its startup set and then
// the rest (docs/prefetch.md). The daemon's `prefetch` key and `tidectl mount --prefetch` both name it.
enum class PrefetchMode { kNone, kStartup, kAll };
absl::StatusOr<PrefetchMode> ParsePrefetchMode(std::string_view text);
std::string_view PrefetchModeName(PrefetchMode mode);

}  // namespace tide::fetch

#endif  // TIDE_FETCH_PREFETCH_MODE_H_
