#ifndef TIDE_FORMAT_CHUNK_STREAM_DECODER_H_
#define TIDE_FORMAT_CHUNK_STREAM_DECODER_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/sha256.h"
#include "format/layer_index.h"

struct ZSTD_DCtx_s;

namespace tide::format {

// Decodes one chunk of a tide layer (exactly one zstd frame) from its compressed bytes as they
// arrive, hashing the output as it is produced. A reader waiting for a chunk then waits for its last
// byte plus the decode of that byte's block, not for a whole-chunk decode and hash after it: on a
// 1 Gbit/s link that is about a third of a cold read of a 2 MiB chunk. The checks are
// DecodeChunk's: exactly chunk.compressed_size bytes, one frame, chunk.uncompressed_size bytes out
// (never more written), and the sha256 the index commits to.
class ChunkStreamDecoder {
 public:
  ChunkStreamDecoder();
  ~ChunkStreamDecoder();
  ChunkStreamDecoder(const ChunkStreamDecoder&) = delete;
  ChunkStreamDecoder& operator=(const ChunkStreamDecoder&) = delete;

  // Begins `chunk`, dropping whatever was fed before.
  void Start(const ChunkInfo& chunk);
  // Takes the chunk's next compressed bytes. DataLoss when they cannot be the chunk (corrupt, more
  // than one frame, more output than the index says); feed nothing more after an error.
  absl::Status Feed(std::string_view compressed);
  // Every compressed byte was fed: the chunk's verified bytes, valid until the next Start.
  absl::StatusOr<std::string_view> Finish();

 private:
  absl::Status Error(std::string_view what) const;
  absl::Status SizeError() const;

  std::unique_ptr<ZSTD_DCtx_s, size_t (*)(ZSTD_DCtx_s*)> dctx_;
  ChunkInfo chunk_;
  std::string out_;
  size_t produced_ = 0;  // bytes of out_ written by the decoder, all of them hashed
  uint64_t fed_ = 0;
  bool frame_done_ = false;
  Sha256 hash_;
};

}  // namespace tide::format

#endif  // TIDE_FORMAT_CHUNK_STREAM_DECODER_H_
