#include "format/gzip_inflate.h"

#include <zlib.h>

#include <algorithm>
#include <climits>

#include "absl/strings/str_cat.h"
#include "format/inflate_stream.h"

namespace tide::format {
namespace {

constexpr int kGzipOnly = 16 + MAX_WBITS;

// Fills `out` from `z`; returns zlib's code and adds the bytes written to *written.
int Fill(InflateStream& z, std::span<char> out, size_t* written) {
  z.SetOutput(out);
  const uInt before = z.z().avail_out;
  int rc = inflate(&z.z(), Z_NO_FLUSH);
  *written += before - z.z().avail_out;
  return rc;
}

// One gzip stream per thread, reset per chunk: inflateInit allocates its state and window, which the
// read path must not do per chunk.
InflateStream* ThreadGzipStream() {
  thread_local InflateStream stream(kGzipOnly);
  return stream.Reset(kGzipOnly) ? &stream : nullptr;
}

}  // namespace

absl::StatusOr<size_t> InflateGzipPrefix(std::string_view in, std::span<char> out) {
  InflateStream* stream = ThreadGzipStream();
  if (stream == nullptr) return absl::InternalError("zlib: cannot start inflate");
  InflateStream& z = *stream;
  z.SetInput(in);
  size_t written = 0;
  while (written < out.size()) {
    int rc = Fill(z, out.subspan(written), &written);
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR) {
      if (written < out.size()) return absl::DataLossError("gzip member is cut short");
      break;
    }
    if (rc != Z_OK) return absl::DataLossError(absl::StrCat("gzip: ", z.message()));
  }
  return written;
}

absl::StatusOr<std::string> InflateGzipMember(std::string_view in, size_t max_size) {
  InflateStream z(kGzipOnly);
  if (!z.ok()) return absl::InternalError("zlib: cannot start inflate");
  z.SetInput(in);
  std::string out;
  size_t written = 0;
  while (true) {
    if (written == out.size()) {
      if (out.size() > max_size) {
        return absl::ResourceExhaustedError(
            absl::StrCat("gzip member inflates to more than ", max_size, " bytes"));
      }
      out.resize(std::min(max_size + 1, std::max<size_t>(out.size() * 2, 64 << 10)));
    }
    int rc = Fill(z, std::span<char>(out).subspan(written), &written);
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && written < out.size()) return absl::DataLossError("gzip member is cut short");
    if (rc != Z_OK && rc != Z_BUF_ERROR) return absl::DataLossError(absl::StrCat("gzip: ", z.message()));
  }
  if (written > max_size) {
    return absl::ResourceExhaustedError(
        absl::StrCat("gzip member inflates to more than ", max_size, " bytes"));
  }
  out.resize(written);
  return out;
}

}  // namespace tide::format
