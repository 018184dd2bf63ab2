#include "format/gzip_index/checkpointing_inflater.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "format/gzip_index/inflate_checkpoints.h"
#include "format/index_limits.h"

namespace tide::format {
namespace {

constexpr size_t kInputBuffer = 256 << 10;
constexpr size_t kGzipTrailer = 8;  // CRC-32 and ISIZE

}  // namespace

CheckpointingInflater::CheckpointingInflater(ByteSource& blob, CheckpointSpacing spacing)
    : blob_(blob), spacing_(spacing), in_(kInputBuffer, '\0'), ring_(kInflateWindowSize, '\0') {}

CheckpointingInflater::~CheckpointingInflater() = default;

absl::Status CheckpointingInflater::Refill() {
  if (strm_.avail_in != 0 || input_done_) return absl::OkStatus();
  if (strm_.next_in != nullptr && strm_.next_in != reinterpret_cast<Bytef*>(in_.data()))
    last_byte_ = static_cast<uint8_t>(strm_.next_in[-1]);
  TIDE_ASSIGN_OR_RETURN(size_t n, blob_.Read(in_.data(), in_.size()));
  if (n == 0) {
    input_done_ = true;
    return absl::OkStatus();
  }
  blob_hash_.Update(in_.data(), n);
  blob_size_ += n;
  strm_.next_in = reinterpret_cast<Bytef*>(in_.data());
  strm_.avail_in = static_cast<uInt>(n);
  return absl::OkStatus();
}

void CheckpointingInflater::Consume(const char* data, size_t size) {
  tar_hash_.Update(data, size);
  span_hash_.Update(data, size);
  if (size >= ring_.size()) {
    std::memcpy(ring_.data(), data + size - ring_.size(), ring_.size());
    ring_pos_ = 0;
    return;
  }
  const size_t first = std::min(size, ring_.size() - ring_pos_);
  std::memcpy(ring_.data() + ring_pos_, data, first);
  std::memcpy(ring_.data(), data + first, size - first);
  ring_pos_ = (ring_pos_ + size) % ring_.size();
}

absl::Status CheckpointingInflater::CloseSpan(uint64_t compressed_end) {
  const RawCheckpoint& start = checkpoints_.back();
  const uint64_t out = strm_.total_out - start.uncompressed_offset;
  const uint64_t in = compressed_end - start.compressed_offset;
  if (out > kMaxChunkSize || in > kMaxChunkSize) {
    return absl::ResourceExhaustedError(absl::StrCat("deflate blocks at compressed offset ",
                                                     start.compressed_offset, " run ", in,
                                                     " bytes without a block boundary"));
  }
  FrameRecord span;
  span.uncompressed_size = static_cast<uint32_t>(out);
  span.compressed_size = static_cast<uint32_t>(in);
  span.sha256 = span_hash_.Finish();
  span_hash_ = Sha256();
  spans_.push_back(span);
  return absl::OkStatus();
}

absl::Status CheckpointingInflater::AtBlockBoundary() {
  // 128: just after an end-of-block code (or the header); 64: that block was the last one.
  if ((strm_.data_type & 128) == 0 || (strm_.data_type & 64) != 0) return absl::OkStatus();
  if (!checkpoints_.empty()) {
    const RawCheckpoint& last = checkpoints_.back();
    const uint64_t in = strm_.total_in - last.compressed_offset;
    const uint64_t out = strm_.total_out - last.uncompressed_offset;
    const bool due = in >= spacing_.compressed_bytes && out >= spacing_.min_uncompressed_bytes;
    if (!due && out < spacing_.uncompressed_bytes) return absl::OkStatus();
    if (strm_.total_out == last.uncompressed_offset) return absl::OkStatus();  // spans are never empty
    TIDE_RETURN_IF_ERROR(CloseSpan(strm_.total_in));
  }
  RawCheckpoint point;
  point.compressed_offset = strm_.total_in;
  point.uncompressed_offset = strm_.total_out;
  point.bits = static_cast<uint8_t>(strm_.data_type & 7);
  if (point.bits != 0) {
    const bool in_buffer = strm_.next_in != reinterpret_cast<Bytef*>(in_.data());
    const uint8_t byte = in_buffer ? static_cast<uint8_t>(strm_.next_in[-1]) : last_byte_;
    point.prime = static_cast<uint8_t>(byte >> (8 - point.bits));
  }
  const size_t window = static_cast<size_t>(std::min<uint64_t>(strm_.total_out, ring_.size()));
  if (window < ring_.size()) {
    point.window.assign(ring_.data(), window);
  } else {
    point.window.assign(ring_.data() + ring_pos_, ring_.size() - ring_pos_);
    point.window.append(ring_.data(), ring_pos_);
  }
  checkpoints_.push_back(std::move(point));
  return absl::OkStatus();
}

absl::Status CheckpointingInflater::Finish() {
  if (strm_.total_in < kGzipTrailer || checkpoints_.empty())
    return absl::InvalidArgumentError("gzip stream ended before its first deflate block");
  TIDE_RETURN_IF_ERROR(CloseSpan(strm_.total_in - kGzipTrailer));
  // The gzip spec allows more members; container layers have one. Anything after it would be
  // bytes the index does not describe, so refuse rather than guess.
  TIDE_RETURN_IF_ERROR(Refill());
  if (strm_.avail_in != 0) {
    return absl::UnimplementedError(
        absl::StrCat("data after the first gzip member at offset ", strm_.total_in, " (multi-member gzip)"));
  }
  done_ = true;
  return absl::OkStatus();
}

absl::StatusOr<size_t> CheckpointingInflater::Read(char* buffer, size_t size) {
  if (!stream_.ok()) return absl::ResourceExhaustedError("zlib: cannot set up inflate");
  if (done_ || size == 0) return 0;
  while (true) {
    TIDE_RETURN_IF_ERROR(Refill());
    strm_.next_out = reinterpret_cast<Bytef*>(buffer);
    strm_.avail_out = static_cast<uInt>(std::min<size_t>(size, UINT32_MAX));
    const uInt before = strm_.avail_out;
    const int ret = inflate(&strm_, Z_BLOCK);
    const size_t produced = before - strm_.avail_out;
    Consume(buffer, produced);
    if (ret == Z_STREAM_END) {
      TIDE_RETURN_IF_ERROR(Finish());
      return produced;
    }
    if (ret == Z_BUF_ERROR && input_done_ && strm_.avail_in == 0) {
      return absl::DataLossError(
          absl::StrCat("gzip stream is truncated at compressed offset ", strm_.total_in));
    }
    if (ret != Z_OK && ret != Z_BUF_ERROR) {
      return absl::DataLossError(absl::StrCat("gzip stream is corrupt at compressed offset ", strm_.total_in,
                                              ": ", stream_.message()));
    }
    TIDE_RETURN_IF_ERROR(AtBlockBoundary());
    if (produced != 0) return produced;
  }
}

}  // namespace tide::format
