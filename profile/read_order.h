#ifndef TIDE_PROFILE_READ_ORDER_H_
#define TIDE_PROFILE_READ_ORDER_H_

#include <cstdint>
#include <filesystem>
#include <vector>

#include "absl/status/statusor.h"
#include "profile/startup_profile.h"

namespace tide::profile {

// When each read of a one-layer profile happened, as a number that orders reads across the layers
// recorded by one process (layer::AccessRecord::seq). tide-snapshotter keeps one next to each
// learned profile (<hex>.order beside <hex>.profile): text, one decimal number per read line of the
// profile, in the same order. It lets the layers' learned reads be merged, and prefetched, in the
// order the image read them.
absl::Status WriteReadOrder(const std::filesystem::path& path, const std::vector<uint64_t>& order);
// Errors name the file and line. `expected_reads` must match the number of lines.
absl::StatusOr<std::vector<uint64_t>> ReadReadOrder(const std::filesystem::path& path, size_t expected_reads);

// Merges one-layer profiles (others are skipped) into one image profile, layers declared in the given
// order and reads sorted by their order numbers; stable, so equal numbers keep layer order.
// orders[i] is parallel to layers[i].reads (reads without a number go last).
StartupProfile MergeByReadOrder(const std::vector<StartupProfile>& layers,
                                const std::vector<std::vector<uint64_t>>& orders);

}  // namespace tide::profile

#endif  // TIDE_PROFILE_READ_ORDER_H_
