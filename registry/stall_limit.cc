#include "registry/stall_limit.h"

#include <algorithm>

#include "registry/blob_range_reader.h"

namespace tide::registry {

std::chrono::milliseconds StallLimitWithin(std::chrono::milliseconds time_left) {
  constexpr std::chrono::milliseconds kFloor{1000};
  return std::max(kFloor, time_left / 3);
}

std::chrono::milliseconds StallLimit(std::chrono::milliseconds configured,
                                     std::chrono::steady_clock::time_point deadline,
                                     std::chrono::steady_clock::time_point now) {
  if (deadline == kNoDeadline || deadline <= now) return configured;
  return std::min(configured,
                  StallLimitWithin(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)));
}

}  // namespace tide::registry
