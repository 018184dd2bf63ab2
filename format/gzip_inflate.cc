#include "format/gzip_inflate.h"

#include <zlib.h>

#include <algorithm>
#include <climits>

#include "absl/strings/str_cat.h"

namespace tide::format {
namespace {

constexpr int kGzipOnly = 16 + MAX_WBITS;

// One inflate stream, ended whatever path leaves the scope.
class Inflater {
 public:
  explicit Inflater(std::string_view in) {
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    stream_.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT_MAX));
    ok_ = inflateInit2(&stream_, kGzipOnly) == Z_OK;
  }
  ~Inflater() {
    if (ok_) inflateEnd(&stream_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  bool ok() const { return ok_; }
  // Fills `out` from the stream; returns zlib's code and adds the bytes written to *written.
  int Fill(std::span<char> out, size_t* written) {
    stream_.next_out = reinterpret_cast<Bytef*>(out.data());
    stream_.avail_out = static_cast<uInt>(std::min<size_t>(out.size(), UINT_MAX));
    const uInt before = stream_.avail_out;
    int rc = inflate(&stream_, Z_NO_FLUSH);
    *written += before - stream_.avail_out;
    return rc;
  }
  const char* message() const { return stream_.msg != nullptr ? stream_.msg : "corrupt deflate data"; }

 private:
  z_stream stream_{};
  bool ok_ = false;
};

}  // namespace

absl::StatusOr<size_t> InflateGzipPrefix(std::string_view in, std::span<char> out) {
  Inflater z(in);
  if (!z.ok()) return absl::InternalError("zlib: cannot start inflate");
  size_t written = 0;
  while (written < out.size()) {
    int rc = z.Fill(out.subspan(written), &written);
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
  Inflater z(in);
  if (!z.ok()) return absl::InternalError("zlib: cannot start inflate");
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
    int rc = z.Fill(std::span<char>(out).subspan(written), &written);
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
