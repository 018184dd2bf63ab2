#include "format/gzip_index/inflate_checkpoints.h"

#include <zlib.h>
#include <zstd.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "format/inflate_stream.h"

namespace tide::format {
namespace {

constexpr int kRawDeflate = -15;

absl::Status Malformed(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed gzip side index: ", std::string(what)));
}

// One raw-deflate stream, zstd context and window buffer per thread, reset per chunk: inflateInit
// allocates the 32 KiB window and state, which the FUSE read path must not do per chunk.
struct ThreadScratch {
  InflateStream inflater{kRawDeflate};
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx{ZSTD_createDCtx(), ZSTD_freeDCtx};
  char window[kInflateWindowSize];
};

ThreadScratch& Scratch() {
  thread_local std::unique_ptr<ThreadScratch> scratch = std::make_unique<ThreadScratch>();
  return *scratch;
}

}  // namespace

absl::StatusOr<InflateCheckpoints> InflateCheckpoints::TakeFromProto(tide::format::v1::LayerIndex& pb,
                                                                     size_t chunk_count) {
  if (pb.checkpoint_bits().size() != chunk_count || pb.checkpoint_primes().size() != chunk_count ||
      static_cast<size_t>(pb.checkpoint_window_sizes_size()) != chunk_count) {
    return Malformed(
        absl::StrCat("checkpoint columns do not have one element per chunk (", chunk_count, ")"));
  }
  if (pb.checkpoint_windows().size() > UINT32_MAX) return Malformed("checkpoint windows exceed 4 GiB");
  InflateCheckpoints out;
  out.points_.resize(chunk_count);
  uint32_t previous = 0;
  for (uint32_t start : pb.gzip_member_starts()) {
    if (start <= previous || start >= chunk_count) {
      return Malformed(
          absl::StrCat("gzip member start ", start, " is not an ascending chunk past 0 of ", chunk_count));
    }
    out.points_[start].member_start = true;
    previous = start;
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < chunk_count; ++i) {
    InflateCheckpoint& p = out.points_[i];
    p.bits = static_cast<uint8_t>(pb.checkpoint_bits()[i]);
    p.prime = static_cast<uint8_t>(pb.checkpoint_primes()[i]);
    if (p.bits > 7 || (p.prime >> p.bits) != 0) {
      return Malformed(absl::StrCat("checkpoint ", i, " has bad bit count or prime"));
    }
    const uint32_t size = pb.checkpoint_window_sizes(static_cast<int>(i));
    const bool stream_start = i == 0 || p.member_start;
    if (size > kMaxStoredWindowSize || stream_start != (size == 0)) {
      return Malformed(absl::StrCat("checkpoint ", i, " window size ", size, " out of range"));
    }
    if (stream_start && p.bits != 0)
      return Malformed(absl::StrCat("checkpoint ", i, " starts a stream mid-byte"));
    p.window_offset = static_cast<uint32_t>(offset);
    p.window_size = size;
    offset += size;
  }
  if (offset != pb.checkpoint_windows().size()) {
    return Malformed("checkpoint window sizes do not add up to the windows' bytes");
  }
  out.windows_ = std::move(*pb.mutable_checkpoint_windows());
  pb.clear_checkpoint_bits();
  pb.clear_checkpoint_primes();
  pb.clear_checkpoint_window_sizes();
  pb.clear_gzip_member_starts();
  return out;
}

absl::Status InflateCheckpoints::Inflate(uint32_t checkpoint, std::string_view compressed,
                                         size_t window_bytes, std::span<char> out) const {
  if (checkpoint >= points_.size()) return absl::OutOfRangeError("no such inflate checkpoint");
  const InflateCheckpoint& p = points_[checkpoint];
  ThreadScratch& scratch = Scratch();
  size_t window = 0;
  if (p.window_size != 0) {
    window = ZSTD_decompressDCtx(scratch.dctx.get(), scratch.window, sizeof(scratch.window),
                                 windows_.data() + p.window_offset, p.window_size);
    if (ZSTD_isError(window)) {
      return absl::DataLossError(absl::StrCat("inflate window: zstd: ", ZSTD_getErrorName(window)));
    }
  }
  const size_t expected = p.member_start ? 0 : window_bytes;
  if (window != expected) {
    return absl::DataLossError(absl::StrCat("inflate window holds ", window, " bytes, expected ", expected));
  }
  if (!scratch.inflater.Reset(kRawDeflate))
    return absl::ResourceExhaustedError("zlib: cannot set up inflate");
  z_stream* strm = &scratch.inflater.z();
  if (p.bits != 0 && inflatePrime(strm, p.bits, p.prime) != Z_OK) {
    return absl::DataLossError("zlib: cannot prime the first bits");
  }
  if (window != 0 && inflateSetDictionary(strm, reinterpret_cast<const Bytef*>(scratch.window),
                                          static_cast<uInt>(window)) != Z_OK) {
    return absl::DataLossError("zlib: cannot set the inflate window");
  }
  scratch.inflater.SetInput(compressed);
  scratch.inflater.SetOutput(out);
  while (strm->avail_out != 0) {
    const int ret = inflate(strm, Z_NO_FLUSH);
    if (ret == Z_STREAM_END || ret == Z_BUF_ERROR) break;  // ended, or input exhausted
    if (ret != Z_OK) {
      return absl::DataLossError(absl::StrCat("deflate data is corrupt: ", scratch.inflater.message()));
    }
  }
  if (strm->avail_out != 0) {
    return absl::DataLossError(
        absl::StrCat("deflate data ends after ", out.size() - strm->avail_out, " of ", out.size(), " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace tide::format
