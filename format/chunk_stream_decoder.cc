#include "format/chunk_stream_decoder.h"

// For ZSTD_d_stableOutBuffer's name; the parameter itself goes through the stable
// ZSTD_DCtx_setParameter, so this links against the shared library like any other use.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide::format {

ChunkStreamDecoder::ChunkStreamDecoder() : dctx_(ZSTD_createDCtx(), ZSTD_freeDCtx) {
  // Allocation failure here leaves nothing sensible to do (as for OpenSSL's contexts).
  if (dctx_ == nullptr) std::abort();
  // The decoder writes straight into out_ and uses it as its window: no 2 MiB window buffer of its
  // own and no copy out of it.
  ZSTD_DCtx_setParameter(dctx_.get(), ZSTD_d_stableOutBuffer, 1);
}

ChunkStreamDecoder::~ChunkStreamDecoder() = default;

void ChunkStreamDecoder::Start(const ChunkInfo& chunk) {
  chunk_ = chunk;
  ZSTD_DCtx_reset(dctx_.get(), ZSTD_reset_session_only);
  // One spare byte so an overlong frame shows up as a size mismatch instead of being cut silently.
  // Not cleared: the decoder writes every byte before anything reads it.
  if (out_.size() < static_cast<size_t>(chunk.uncompressed_size) + 1) {
    out_.resize(static_cast<size_t>(chunk.uncompressed_size) + 1);
  }
  produced_ = 0;
  fed_ = 0;
  frame_done_ = false;
  (void)hash_.Finish();  // resets it
}

absl::Status ChunkStreamDecoder::Error(std::string_view what) const {
  return absl::DataLossError(absl::StrCat("chunk at blob offset ", chunk_.compressed_offset, ": ", Sv(what)));
}

absl::Status ChunkStreamDecoder::SizeError() const {
  return Error(
      absl::StrCat("decompressed size does not match the index (expected ", chunk_.uncompressed_size, ")"));
}

absl::Status ChunkStreamDecoder::Feed(std::string_view compressed) {
  if (compressed.empty()) return absl::OkStatus();
  if (compressed.size() > chunk_.compressed_size - fed_) {
    return Error(absl::StrCat("more than its ", chunk_.compressed_size, " compressed bytes"));
  }
  fed_ += compressed.size();
  if (frame_done_) return Error("not exactly one zstd frame");
  // The same buffer and size on every call, as ZSTD_d_stableOutBuffer requires.
  ZSTD_outBuffer out{out_.data(), static_cast<size_t>(chunk_.uncompressed_size) + 1, produced_};
  ZSTD_inBuffer in{compressed.data(), compressed.size(), 0};
  while (in.pos < in.size) {
    const size_t in_before = in.pos;
    const size_t left = ZSTD_decompressStream(dctx_.get(), &out, &in);
    if (ZSTD_isError(left)) return Error(absl::StrCat("zstd: ", ZSTD_getErrorName(left)));
    if (out.pos > chunk_.uncompressed_size) return SizeError();
    const bool stuck = in.pos == in_before && out.pos == produced_;  // only when the output is full
    hash_.Update(out_.data() + produced_, out.pos - produced_);
    produced_ = out.pos;
    if (left == 0) {  // the frame ended: nothing may follow it
      frame_done_ = true;
      if (in.pos < in.size) return Error("not exactly one zstd frame");
    } else if (stuck) {
      return SizeError();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string_view> ChunkStreamDecoder::Finish() {
  if (fed_ != chunk_.compressed_size) {
    return Error(absl::StrCat("got ", fed_, " compressed bytes, expected ", chunk_.compressed_size));
  }
  if (!frame_done_) return Error("the zstd frame is cut short");
  if (produced_ != chunk_.uncompressed_size) return SizeError();
  if (hash_.Finish() != chunk_.sha256) return Error("sha256 does not match the index");
  return std::string_view(out_.data(), produced_);
}

}  // namespace tide::format
