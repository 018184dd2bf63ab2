#ifndef TIDE_COMMON_ATOMIC_FILE_H_
#define TIDE_COMMON_ATOMIC_FILE_H_

#include <filesystem>
#include <string_view>

#include "absl/status/status.h"

namespace tide {

// Writes `data` through a synced temp file in the same directory, renames it over `path` and syncs
// the directory, so readers (and a reboot) see the old content or the new, never a mix, and an OK
// result survives a crash. Mode 0644. On error no temp file is left; an error from the final
// directory sync means the new content is in place but may not survive a crash.
absl::Status WriteFileAtomically(const std::filesystem::path& path, std::string_view data);

// fsync of a directory: makes the entries created, renamed or removed in it durable.
absl::Status SyncDirectory(const std::filesystem::path& dir);

}  // namespace tide

#endif  // TIDE_COMMON_ATOMIC_FILE_H_
