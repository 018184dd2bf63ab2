#include "converter/decompressor.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tide::converter {

namespace {

constexpr size_t kInputBuffer = 1 << 17;

class PassThrough final : public format::ByteSource {
 public:
  explicit PassThrough(format::ByteSource& in) : in_(in) {}
  absl::StatusOr<size_t> Read(char* buffer, size_t size) override { return in_.Read(buffer, size); }

 private:
  format::ByteSource& in_;
};

class GzipSource final : public format::ByteSource {
 public:
  GzipSource(format::ByteSource& in, std::string context)
      : in_(in), context_(std::move(context)), buf_(kInputBuffer) {
    // 15 + 32: any window size, gzip or zlib header detected automatically.
    ok_ = inflateInit2(&z_, 15 + 32) == Z_OK;
  }
  ~GzipSource() override {
    if (ok_) inflateEnd(&z_);
  }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  absl::StatusOr<size_t> Read(char* buffer, size_t size) override {
    if (!ok_) return absl::InternalError(absl::StrCat(context_, ": zlib initialization failed"));
    z_.next_out = reinterpret_cast<Bytef*>(buffer);
    const size_t want = std::min<size_t>(size, 1u << 30);
    z_.avail_out = static_cast<uInt>(want);
    while (z_.avail_out > 0) {
      if (z_.avail_in == 0 && !eof_) {
        absl::StatusOr<size_t> n = in_.Read(buf_.data(), buf_.size());
        if (!n.ok()) return n.status();
        if (*n == 0) {
          eof_ = true;
        } else {
          z_.next_in = reinterpret_cast<Bytef*>(buf_.data());
          z_.avail_in = static_cast<uInt>(*n);
        }
      }
      if (z_.avail_in == 0 && eof_) {
        if (member_open_) return absl::DataLossError(absl::StrCat(context_, ": truncated gzip stream"));
        if (!any_member_) return absl::DataLossError(absl::StrCat(context_, ": empty gzip stream"));
        break;
      }
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        // Another gzip member may follow (pigz and some registries produce multi-member streams).
        member_open_ = false;
        any_member_ = true;
        inflateReset(&z_);
        continue;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return absl::DataLossError(
            absl::StrCat(context_, ": corrupt gzip data: ", z_.msg != nullptr ? z_.msg : zError(rc)));
      }
      member_open_ = true;
      any_member_ = true;
    }
    return want - z_.avail_out;
  }

 private:
  format::ByteSource& in_;
  std::string context_;
  std::vector<char> buf_;
  z_stream z_{};
  bool ok_ = false;
  bool eof_ = false;
  bool member_open_ = false;
  bool any_member_ = false;
};

class ZstdSource final : public format::ByteSource {
 public:
  ZstdSource(format::ByteSource& in, std::string context)
      : in_(in), context_(std::move(context)), buf_(ZSTD_DStreamInSize()), dctx_(ZSTD_createDCtx()) {}
  ~ZstdSource() override { ZSTD_freeDCtx(dctx_); }
  ZstdSource(const ZstdSource&) = delete;
  ZstdSource& operator=(const ZstdSource&) = delete;

  absl::StatusOr<size_t> Read(char* buffer, size_t size) override {
    if (dctx_ == nullptr) return absl::InternalError(absl::StrCat(context_, ": zstd initialization failed"));
    ZSTD_outBuffer out{buffer, size, 0};
    while (out.pos < out.size) {
      if (in_buf_.pos == in_buf_.size && !eof_) {
        absl::StatusOr<size_t> n = in_.Read(buf_.data(), buf_.size());
        if (!n.ok()) return n.status();
        if (*n == 0) {
          eof_ = true;
        } else {
          in_buf_ = ZSTD_inBuffer{buf_.data(), *n, 0};
        }
      }
      bool no_input = in_buf_.pos == in_buf_.size;
      if (no_input && eof_ && !frame_open_) break;
      size_t before = out.pos;
      size_t rc = ZSTD_decompressStream(dctx_, &out, &in_buf_);
      if (ZSTD_isError(rc)) {
        return absl::DataLossError(absl::StrCat(context_, ": corrupt zstd data: ", ZSTD_getErrorName(rc)));
      }
      frame_open_ = rc != 0;
      if (no_input && eof_ && out.pos == before) {
        // Input ended inside a frame and the decoder can make no more progress.
        return absl::DataLossError(absl::StrCat(context_, ": truncated zstd stream"));
      }
    }
    return out.pos;
  }

 private:
  format::ByteSource& in_;
  std::string context_;
  std::vector<char> buf_;
  ZSTD_inBuffer in_buf_{nullptr, 0, 0};
  ZSTD_DCtx* dctx_;
  bool eof_ = false;
  bool frame_open_ = false;
};

}  // namespace

std::unique_ptr<format::ByteSource> NewDecompressor(oci::Compression kind, format::ByteSource& compressed,
                                                    std::string context) {
  switch (kind) {
    case oci::Compression::kGzip:
      return std::make_unique<GzipSource>(compressed, std::move(context));
    case oci::Compression::kZstd:
      return std::make_unique<ZstdSource>(compressed, std::move(context));
    case oci::Compression::kNone:
      break;
  }
  return std::make_unique<PassThrough>(compressed);
}

}  // namespace tide::converter
