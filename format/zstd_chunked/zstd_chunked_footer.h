#ifndef TIDE_FORMAT_ZSTD_CHUNKED_ZSTD_CHUNKED_FOOTER_H_
#define TIDE_FORMAT_ZSTD_CHUNKED_ZSTD_CHUNKED_FOOTER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace tide::format {

// A zstd:chunked blob (as stargz-snapshotter's writer makes it) ends with a skippable zstd frame
// holding a 40-byte footer: TOC offset, compressed and raw TOC size, manifest type, "GnUlInUx".
inline constexpr size_t kZstdChunkedTailSize = 48;

struct ZstdChunkedFooter {
  uint64_t toc_offset = 0;           // of the zstd-compressed TOC JSON, inside its skippable frame
  uint64_t toc_compressed_size = 0;  // bytes at toc_offset
  uint64_t toc_raw_size = 0;         // of the JSON
};

// Whether the blob's last 48 bytes end with the zstd:chunked footer magic.
bool IsZstdChunkedTail(std::string_view tail);

// Parses the last 48 bytes of a blob of `blob_size` bytes: the TOC must lie inside the blob, before
// the footer, and its compressed size be at most kMaxIndexFrameSize.
absl::StatusOr<ZstdChunkedFooter> ParseZstdChunkedFooter(std::string_view tail, uint64_t blob_size);

}  // namespace tide::format

#endif  // TIDE_FORMAT_ZSTD_CHUNKED_ZSTD_CHUNKED_FOOTER_H_
