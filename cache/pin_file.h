#ifndef TIDE_CACHE_PIN_FILE_H_
#define TIDE_CACHE_PIN_FILE_H_

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sha256.h"

namespace tide::cache {

// One owner's pins as kept on disk: who pinned (an image reference), what the owner wants to remember
// about it (opaque to the cache), and the chunk digests that must not be evicted.
struct PinFile {
  std::string owner;
  std::string meta;
  std::vector<Sha256Bytes> chunks;
};

// Pin files are small JSON documents written by the daemon itself, but they are read back at every
// start: anything larger or malformed is refused with the file and the reason, never half-applied.
inline constexpr uint64_t kMaxPinFileBytes = 256 << 20;

// Writes `pin` to `path` through a temp file beside it, fsync'ed and renamed: after a crash the file
// holds either the old pins or the new ones.
absl::Status WritePinFile(const std::filesystem::path& path, const PinFile& pin);
absl::StatusOr<PinFile> ReadPinFile(const std::filesystem::path& path);
// The file name for an owner's pins: the hex sha256 of the owner, so any reference is a safe name.
std::string PinFileName(std::string_view owner);

}  // namespace tide::cache

#endif  // TIDE_CACHE_PIN_FILE_H_
