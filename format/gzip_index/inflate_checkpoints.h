#ifndef TIDE_FORMAT_GZIP_INDEX_INFLATE_CHECKPOINTS_H_
#define TIDE_FORMAT_GZIP_INDEX_INFLATE_CHECKPOINTS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tide/format/v1/layer_index.pb.h"

namespace tide::format {

// Deflate keeps back-references up to 32 KiB behind the output: the window a span needs.
inline constexpr size_t kInflateWindowSize = 32768;
// A zstd-compressed window never needs more than this (incompressible data grows by a few bytes).
inline constexpr size_t kMaxStoredWindowSize = kInflateWindowSize + 1024;

// Where inflation of a gzip stream can restart: at a deflate block boundary, which is a bit offset.
// Chunk i of a gzip side index starts at checkpoint i; its compressed range starts at the first
// whole byte of the block, and the `bits` high bits of the byte before (their value is `prime`)
// are stored here instead of being fetched.
struct InflateCheckpoint {
  uint32_t window_offset = 0;  // of the zstd-compressed window in the windows arena
  uint32_t window_size = 0;    // compressed; 0 for the stream's start
  uint8_t bits = 0;            // 0..7
  uint8_t prime = 0;           // the value of those bits
  bool member_start = false;   // a gzip member's first block: no window, whatever came before
};

// The inflate checkpoints of one gzip layer: one per chunk, with the chunk's 32 KiB window kept
// zstd-compressed (a window is mostly text and code: it shrinks 3-4x), so an index of a few thousand
// chunks costs a few MiB of memory, not a hundred.
class InflateCheckpoints {
 public:
  // Takes the checkpoint columns of a gzip side index (and clears them from `pb`); checks their
  // counts and sizes against `chunk_count`.
  static absl::StatusOr<InflateCheckpoints> TakeFromProto(tide::format::v1::LayerIndex& pb,
                                                          size_t chunk_count);

  // Inflates the chunk that starts at `checkpoint` from its compressed bytes into exactly `out`
  // (the chunk's uncompressed size). `window_bytes` is how much output precedes the chunk
  // (min(32 KiB, its uncompressed offset)); a chunk that starts a gzip member needs none. Data that ends
  // early, a window of the wrong size or a corrupt stream is DataLoss. No allocation after a thread's first
  // call.
  absl::Status Inflate(uint32_t checkpoint, std::string_view compressed, size_t window_bytes,
                       std::span<char> out) const;

  size_t size() const { return points_.size(); }
  size_t MemoryUsage() const { return points_.capacity() * sizeof(InflateCheckpoint) + windows_.capacity(); }

 private:
  std::vector<InflateCheckpoint> points_;
  std::string windows_;
};

}  // namespace tide::format

#endif  // TIDE_FORMAT_GZIP_INDEX_INFLATE_CHECKPOINTS_H_
