#include "format/stream_decoder.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <string>

#include "absl/strings/str_cat.h"
#include "format/inflate_stream.h"

namespace tide::format {
namespace {

// zlib's state for one gzip member after another.
class GzipStream final : public StreamDecoder {
 public:
  absl::Status Feed(std::string_view in, const std::function<void(std::string_view)>& out) override {
    if (!stream_.ok()) return absl::InternalError("zlib: cannot start inflate");
    z_stream& z = stream_.z();
    while (!in.empty()) {
      stream_.SetInput(in);
      const uInt take = z.avail_in;
      stream_.SetOutput(std::span<char>(buffer_.data(), buffer_.size()));
      in_member_ = true;
      int rc = inflate(&z, Z_NO_FLUSH);
      const size_t produced = buffer_.size() - z.avail_out;
      if (produced > 0) out(std::string_view(buffer_.data(), produced));
      in.remove_prefix(take - z.avail_in);
      if (rc == Z_STREAM_END) {
        // The next member, if any, starts right after this one.
        in_member_ = false;
        if (!stream_.Reset(kGzipOnly)) return absl::InternalError("zlib: cannot reset inflate");
        continue;
      }
      if (rc == Z_BUF_ERROR) {
        if (z.avail_in == 0) break;
        if (produced == 0) return absl::DataLossError("gzip: inflate makes no progress");
        continue;
      }
      if (rc != Z_OK) return absl::DataLossError(absl::StrCat("gzip: ", stream_.message()));
    }
    return absl::OkStatus();
  }

  absl::Status Finish() const override {
    if (in_member_) return absl::DataLossError("gzip stream ends inside a member");
    return absl::OkStatus();
  }

 private:
  static constexpr int kGzipOnly = 16 + MAX_WBITS;
  InflateStream stream_{kGzipOnly};
  bool in_member_ = false;  // a member has started and not ended
  std::string buffer_ = std::string(256 << 10, '\0');
};

// One zstd decompression stream across frames.
class ZstdStream final : public StreamDecoder {
 public:
  absl::Status Feed(std::string_view in, const std::function<void(std::string_view)>& out) override {
    if (dctx_ == nullptr) return absl::InternalError("zstd: cannot create a context");
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    while (input.pos < input.size) {
      ZSTD_outBuffer output{buffer_.data(), buffer_.size(), 0};
      // One input block may take several calls to flush.
      do {
        output.pos = 0;
        size_t rc = ZSTD_decompressStream(dctx_.get(), &output, &input);
        if (ZSTD_isError(rc)) return absl::DataLossError(absl::StrCat("zstd: ", ZSTD_getErrorName(rc)));
        hint_ = rc;
        if (output.pos > 0) out(std::string_view(buffer_.data(), output.pos));
      } while (output.pos == output.size);
    }
    return absl::OkStatus();
  }

  absl::Status Finish() const override {
    if (hint_ != 0) return absl::DataLossError("zstd stream ends inside a frame");
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx_{ZSTD_createDCtx(), ZSTD_freeDCtx};
  size_t hint_ = 0;  // ZSTD_decompressStream's last return: 0 when a frame just ended
  std::string buffer_ = std::string(ZSTD_DStreamOutSize(), '\0');
};

}  // namespace

std::unique_ptr<StreamDecoder> NewGzipStreamDecoder() { return std::make_unique<GzipStream>(); }
std::unique_ptr<StreamDecoder> NewZstdStreamDecoder() { return std::make_unique<ZstdStream>(); }

std::unique_ptr<StreamDecoder> NewBlobStreamDecoder(LayerFormat format) {
  switch (format) {
    case LayerFormat::kEstargz:
    case LayerFormat::kGzipIndexed:
      return NewGzipStreamDecoder();
    case LayerFormat::kZstdChunked:
      return NewZstdStreamDecoder();
    case LayerFormat::kTide:
      break;
  }
  return nullptr;
}

}  // namespace tide::format
