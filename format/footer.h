#ifndef TIDE_FORMAT_FOOTER_H_
#define TIDE_FORMAT_FOOTER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/sha256.h"

namespace tide::format {

// The last kFooterSize bytes of a tide layer blob: a zstd skippable frame locating the index frame.
// Layout (little endian): u32 magic 0x184D2A5E, u32 payload size 64, then the payload:
//   "TIDEFOOT" | u32 version | u32 flags (0) | u64 index_offset | u64 index_size | 32-byte sha256 of
//   the index frame.
inline constexpr size_t kFooterSize = 72;
inline constexpr uint32_t kFooterFrameMagic = 0x184D2A5E;
// The index frame: u32 magic 0x184D2A5D, u32 payload size, payload = zstd-compressed LayerIndex proto.
inline constexpr uint32_t kIndexFrameMagic = 0x184D2A5D;
inline constexpr uint32_t kFooterVersion = 1;

struct Footer {
  uint64_t index_offset = 0;
  uint64_t index_size = 0;
  Sha256Bytes index_sha256{};
};

std::string EncodeFooter(const Footer& footer);
// Parses and validates the footer bytes; `blob_size` (if known, else 0) bounds the index location.
absl::StatusOr<Footer> ParseFooter(std::string_view bytes, uint64_t blob_size = 0);

}  // namespace tide::format

#endif  // TIDE_FORMAT_FOOTER_H_
