#ifndef TIDE_FUSE_STARTUP_READAHEAD_H_
#define TIDE_FUSE_STARTUP_READAHEAD_H_

#include <cstdint>

namespace tide::fuse {

// The kernel read-ahead (KiB) of layers that carry a startup set, and of the optimize run that
// records one. A fault or read then asks for the same window in both, so the recorded ranges are the
// ranges a cold start asks for; a window this small keeps them close to the pages startup touches
// (docs/profiles.md, "Recording granularity").
inline constexpr uint32_t kStartupReadaheadKb = 128;

}  // namespace tide::fuse

#endif  // TIDE_FUSE_STARTUP_READAHEAD_H_
