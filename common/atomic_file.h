#ifndef TIDE_COMMON_ATOMIC_FILE_H_
#define TIDE_COMMON_ATOMIC_FILE_H_

#include <filesystem>
#include <string_view>

#include "absl/status/status.h"

namespace tide {

// Writes `data` through a synced temp file in the same directory and renames it over `path`, so
// readers (and a reboot) see the old content or the new, never a mix. Mode 0644.
absl::Status WriteFileAtomically(const std::filesystem::path& path, std::string_view data);

}  // namespace tide

#endif  // TIDE_COMMON_ATOMIC_FILE_H_
