#include "format/chunk_decoder.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "format/gzip_inflate.h"
#include "format/zstd_stream.h"

namespace tide::format {
namespace {

// One decompression context per thread: creating one per chunk would allocate on the hot path.
ZSTD_DCtx* ThreadDctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  return ctx.get();
}

absl::Status ChunkError(const ChunkInfo& chunk, std::string_view what) {
  return absl::DataLossError(
      absl::StrCat("chunk at blob offset ", chunk.compressed_offset, ": ", std::string(what)));
}

// What every format checks: the caller handed over exactly the chunk's compressed range...
absl::Status CheckCompressedSize(std::string_view compressed, const ChunkInfo& chunk) {
  if (compressed.size() == chunk.compressed_size) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("chunk at blob offset ", chunk.compressed_offset, ": got ",
                                                 compressed.size(), " compressed bytes, expected ",
                                                 chunk.compressed_size));
}

// ...and what came out is what the index says.
absl::Status CheckSha256(const std::string& plain, const ChunkInfo& chunk) {
  if (Sha256Of(plain) == chunk.sha256) return absl::OkStatus();
  return ChunkError(chunk, "sha256 does not match the index");
}

template <typename Decode>
absl::StatusOr<std::string> Returning(Decode decode) {
  std::string out;
  absl::Status st = decode(&out);
  if (!st.ok()) return st;
  return out;
}

// The first bytes of a gzip member (eStargz) or zstd frame (zstd:chunked): what follows the chunk in
// its member or frame (tar padding, the next headers) is not looked at.
absl::Status DecodePrefixChunk(std::string_view compressed, const ChunkInfo& chunk, LayerFormat format,
                               std::string* out) {
  TIDE_RETURN_IF_ERROR(CheckCompressedSize(compressed, chunk));
  out->resize(chunk.uncompressed_size);
  const std::span<char> into(out->data(), out->size());
  absl::StatusOr<size_t> n = format == LayerFormat::kEstargz ? InflateGzipPrefix(compressed, into)
                                                             : DecompressZstdPrefix(compressed, into);
  if (!n.ok()) return ChunkError(chunk, Sv(n.status().message()));
  if (*n != chunk.uncompressed_size) {
    return ChunkError(
        chunk, absl::StrCat("compressed data ends after ", *n, " of ", chunk.uncompressed_size, " bytes"));
  }
  return CheckSha256(*out, chunk);
}

// A span of a gzip side index: inflated from its checkpoint.
absl::Status DecodeSpan(const LayerIndex& index, uint32_t id, std::string_view compressed, std::string* out) {
  const ChunkInfo& chunk = index.chunk(id);
  TIDE_RETURN_IF_ERROR(CheckCompressedSize(compressed, chunk));
  out->resize(chunk.uncompressed_size);
  const size_t window =
      static_cast<size_t>(std::min<uint64_t>(chunk.uncompressed_offset, kInflateWindowSize));
  absl::Status st =
      index.checkpoints()->Inflate(id, compressed, window, std::span<char>(out->data(), out->size()));
  if (!st.ok()) return ChunkError(chunk, Sv(st.message()));
  return CheckSha256(*out, chunk);
}

}  // namespace

absl::Status DecodeChunk(std::string_view compressed, const ChunkInfo& chunk, std::string* out) {
  TIDE_RETURN_IF_ERROR(CheckCompressedSize(compressed, chunk));
  size_t frame = ZSTD_findFrameCompressedSize(compressed.data(), compressed.size());
  if (ZSTD_isError(frame) || frame != compressed.size())
    return ChunkError(chunk, "not exactly one zstd frame");
  // One spare byte so an overlong frame shows up as a size mismatch instead of being cut silently.
  out->resize(static_cast<size_t>(chunk.uncompressed_size) + 1);
  ZSTD_DCtx* dctx = ThreadDctx();
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  size_t n = ZSTD_decompressDCtx(dctx, out->data(), out->size(), compressed.data(), compressed.size());
  if (ZSTD_isError(n)) return ChunkError(chunk, absl::StrCat("zstd: ", ZSTD_getErrorName(n)));
  if (n != chunk.uncompressed_size) {
    return ChunkError(chunk, absl::StrCat("decompressed size does not match the index (expected ",
                                          chunk.uncompressed_size, ")"));
  }
  out->resize(n);
  return CheckSha256(*out, chunk);
}

absl::StatusOr<std::string> DecodeChunk(std::string_view compressed, const ChunkInfo& chunk) {
  return DecodeChunk(compressed, chunk, LayerFormat::kTide);
}

absl::Status DecodeChunk(std::string_view compressed, const ChunkInfo& chunk, LayerFormat format,
                         std::string* out) {
  if (format != LayerFormat::kTide) return DecodePrefixChunk(compressed, chunk, format, out);
  return DecodeChunk(compressed, chunk, out);
}

absl::StatusOr<std::string> DecodeChunk(std::string_view compressed, const ChunkInfo& chunk,
                                        LayerFormat format) {
  return Returning([&](std::string* out) { return DecodeChunk(compressed, chunk, format, out); });
}

absl::Status DecodeIndexChunk(const LayerIndex& index, uint32_t id, std::string_view compressed,
                              std::string* out) {
  if (index.format() == LayerFormat::kGzipIndexed) return DecodeSpan(index, id, compressed, out);
  return DecodeChunk(compressed, index.chunk(id), index.format(), out);
}

absl::StatusOr<std::string> DecodeIndexChunk(const LayerIndex& index, uint32_t id,
                                             std::string_view compressed) {
  return Returning([&](std::string* out) { return DecodeIndexChunk(index, id, compressed, out); });
}

}  // namespace tide::format
