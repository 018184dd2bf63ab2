#ifndef TIDE_FORMAT_INFLATE_STREAM_H_
#define TIDE_FORMAT_INFLATE_STREAM_H_

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace tide::format {

// One zlib inflate stream, owned: inflateEnd runs whatever path leaves the scope. `window_bits` as
// zlib takes them: 16 + 15 for gzip only, -15 for raw deflate.
class InflateStream {
 public:
  explicit InflateStream(int window_bits) { ok_ = inflateInit2(&z_, window_bits) == Z_OK; }
  ~InflateStream() {
    if (ok_) inflateEnd(&z_);
  }
  InflateStream(const InflateStream&) = delete;
  InflateStream& operator=(const InflateStream&) = delete;

  bool ok() const { return ok_; }
  // Back to the start of a stream, keeping the allocated state (no allocation).
  bool Reset(int window_bits) { return ok_ && inflateReset2(&z_, window_bits) == Z_OK; }
  z_stream& z() { return z_; }
  const z_stream& z() const { return z_; }
  // At most 4 GiB at a time (zlib's counters are 32-bit); the caller loops for more.
  void SetInput(std::string_view in) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT32_MAX));
  }
  void SetOutput(std::span<char> out) {
    z_.next_out = reinterpret_cast<Bytef*>(out.data());
    z_.avail_out = static_cast<uInt>(std::min<size_t>(out.size(), UINT32_MAX));
  }
  const char* message() const { return z_.msg != nullptr ? z_.msg : "corrupt deflate data"; }

 private:
  z_stream z_{};
  bool ok_ = false;
};

}  // namespace tide::format

#endif  // TIDE_FORMAT_INFLATE_STREAM_H_
