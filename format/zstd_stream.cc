#include "format/zstd_stream.h"

#include <zstd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace tide::format {
namespace {

using DctxPtr = std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)>;

DctxPtr NewDctx() { return DctxPtr(ZSTD_createDCtx(), ZSTD_freeDCtx); }

absl::Status ZstdError(size_t rc) {
  return absl::DataLossError(absl::StrCat("zstd: ", ZSTD_getErrorName(rc)));
}

}  // namespace

absl::StatusOr<size_t> DecompressZstdPrefix(std::string_view in, std::span<char> out) {
  // One context per thread: chunk reads are the hot path.
  thread_local DctxPtr dctx = NewDctx();
  if (dctx == nullptr) return absl::InternalError("zstd: cannot create a context");
  ZSTD_DCtx_reset(dctx.get(), ZSTD_reset_session_only);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  ZSTD_outBuffer output{out.data(), out.size(), 0};
  while (output.pos < output.size && input.pos < input.size) {
    const size_t before_in = input.pos;
    const size_t before_out = output.pos;
    size_t rc = ZSTD_decompressStream(dctx.get(), &output, &input);
    if (ZSTD_isError(rc)) return ZstdError(rc);
    if (input.pos == before_in && output.pos == before_out) break;
  }
  return output.pos;
}

absl::StatusOr<std::string> DecompressZstdBounded(std::string_view in, size_t max_size) {
  DctxPtr dctx = NewDctx();
  if (dctx == nullptr) return absl::InternalError("zstd: cannot create a context");
  std::string out(std::min<size_t>(max_size + 1, std::max<size_t>(in.size() * 4, 64 << 10)), '\0');
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  ZSTD_outBuffer output{out.data(), out.size(), 0};
  size_t hint = 1;
  while (input.pos < input.size || (hint != 0 && output.pos == output.size)) {
    if (output.pos == output.size) {
      // Stops as soon as the output passes the bound: a small bomb never costs more than max_size.
      if (out.size() > max_size) {
        return absl::ResourceExhaustedError(
            absl::StrCat("zstd data decompresses to more than ", max_size, " bytes"));
      }
      out.resize(std::min(max_size + 1, out.size() * 2));
      output.dst = out.data();
      output.size = out.size();
    }
    const size_t before_in = input.pos;
    const size_t before_out = output.pos;
    hint = ZSTD_decompressStream(dctx.get(), &output, &input);
    if (ZSTD_isError(hint)) return ZstdError(hint);
    if (input.pos == before_in && output.pos == before_out && output.pos < output.size) break;
  }
  if (output.pos > max_size) {
    return absl::ResourceExhaustedError(
        absl::StrCat("zstd data decompresses to more than ", max_size, " bytes"));
  }
  if (hint != 0) return absl::DataLossError("zstd data ends inside a frame");
  out.resize(output.pos);
  return out;
}

}  // namespace tide::format
