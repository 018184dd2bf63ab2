#ifndef TIDE_FORMAT_CHUNK_DECODER_H_
#define TIDE_FORMAT_CHUNK_DECODER_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "format/layer_index.h"

namespace tide::format {

// Decompresses one chunk's frame (exactly chunk.compressed_size bytes from the blob) into `out`
// (resized to chunk.uncompressed_size) and verifies size and sha256. Never writes more than
// chunk.uncompressed_size bytes whatever the input claims. `out` is reused to avoid allocation.
absl::Status DecodeChunk(std::string_view compressed, const ChunkInfo& chunk, std::string* out);
absl::StatusOr<std::string> DecodeChunk(std::string_view compressed, const ChunkInfo& chunk);

// The same for a chunk of a layer in `format`: a zstd frame (tide), or the first bytes of a gzip
// member that may go on past the chunk (eStargz).
absl::Status DecodeChunk(std::string_view compressed, const ChunkInfo& chunk, LayerFormat format,
                         std::string* out);
absl::StatusOr<std::string> DecodeChunk(std::string_view compressed, const ChunkInfo& chunk,
                                        LayerFormat format);

// Chunk `id` of `index`, whatever its format: the one to call when the index is at hand (a gzip
// side index's chunks also need their inflate checkpoint).
absl::Status DecodeIndexChunk(const LayerIndex& index, uint32_t id, std::string_view compressed,
                              std::string* out);
absl::StatusOr<std::string> DecodeIndexChunk(const LayerIndex& index, uint32_t id,
                                             std::string_view compressed);

}  // namespace tide::format

#endif  // TIDE_FORMAT_CHUNK_DECODER_H_
