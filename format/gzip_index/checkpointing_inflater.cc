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
  const uint64_t out = UncompressedAt() - start.uncompressed_offset;
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
  const bool member_start = in_member_header_ && members_ > 1;
  in_member_header_ = false;
  if (!checkpoints_.empty()) {
    const RawCheckpoint& last = checkpoints_.back();
    const uint64_t in = CompressedAt() - last.compressed_offset;
    const uint64_t out = UncompressedAt() - last.uncompressed_offset;
    const bool due = in >= spacing_.compressed_bytes && out >= spacing_.min_uncompressed_bytes;
    if (UncompressedAt() == last.uncompressed_offset) {
      // Spans are never empty. A member start here would follow an empty member, whose span could
      // not be inflated on its own.
      if (!member_start) return absl::OkStatus();
      return absl::UnimplementedError(absl::StrCat("an empty gzip member before compressed offset ",
                                                   CompressedAt(), " (multi-member gzip)"));
    }
    if (!member_start && !due && out < spacing_.uncompressed_bytes) return absl::OkStatus();
    TIDE_RETURN_IF_ERROR(CloseSpan(CompressedAt()));
  }
  RawCheckpoint point;
  point.compressed_offset = CompressedAt();
  point.uncompressed_offset = UncompressedAt();
  point.member_start = member_start;
  point.bits = static_cast<uint8_t>(strm_.data_type & 7);
  if (point.bits != 0) {
    const bool in_buffer = strm_.next_in != reinterpret_cast<Bytef*>(in_.data());
    const uint8_t byte = in_buffer ? static_cast<uint8_t>(strm_.next_in[-1]) : last_byte_;
    point.prime = static_cast<uint8_t>(byte >> (8 - point.bits));
  }
  // A member starts a new deflate stream: nothing before it can be referred to.
  const uint64_t history = member_start ? 0 : UncompressedAt();
  const size_t window = static_cast<size_t>(std::min<uint64_t>(history, ring_.size()));
  if (window < ring_.size()) {
    point.window.assign(ring_.data(), window);  // the ring has not wrapped yet, or no history
  } else {
    point.window.assign(ring_.data() + ring_pos_, ring_.size() - ring_pos_);
    point.window.append(ring_.data(), ring_pos_);
  }
  checkpoints_.push_back(std::move(point));
  return absl::OkStatus();
}

// The member ended (its trailer checked by zlib). Either the blob ends here or another member
// follows; anything else is data the index could not describe.
absl::Status CheckpointingInflater::EndMember() {
  TIDE_RETURN_IF_ERROR(Refill());
  if (strm_.avail_in == 0 && input_done_) return Finish();
  member_in_base_ += strm_.total_in;
  member_out_base_ += strm_.total_out;
  if (!stream_.Reset(16 + 15)) return absl::ResourceExhaustedError("zlib: cannot reset inflate");
  ++members_;
  in_member_header_ = true;
  return absl::OkStatus();
}

absl::Status CheckpointingInflater::Finish() {
  if (CompressedAt() < kGzipTrailer || checkpoints_.empty())
    return absl::InvalidArgumentError("gzip stream ended before its first deflate block");
  if (members_ > 1 && UncompressedAt() == checkpoints_.back().uncompressed_offset) {
    return absl::UnimplementedError(
        absl::StrCat("the last gzip member, at compressed offset ", member_in_base_, ", is empty"));
  }
  TIDE_RETURN_IF_ERROR(CloseSpan(CompressedAt() - kGzipTrailer));
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
      TIDE_RETURN_IF_ERROR(EndMember());
      if (produced != 0 || done_) return produced;
      continue;
    }
    const bool stuck = ret == Z_BUF_ERROR && input_done_ && strm_.avail_in == 0;
    if (in_member_header_ && members_ > 1 && (stuck || (ret != Z_OK && ret != Z_BUF_ERROR))) {
      // Trailing bytes that are not another member (padding, garbage): gunzip warns and ignores
      // them, but the index could not describe them, so the layer is left out.
      return absl::UnimplementedError(absl::StrCat("data after the gzip member ending at compressed offset ",
                                                   member_in_base_, " is not a gzip member"));
    }
    if (stuck) {
      return absl::DataLossError(
          absl::StrCat("gzip stream is truncated at compressed offset ", CompressedAt()));
    }
    if (ret != Z_OK && ret != Z_BUF_ERROR) {
      return absl::DataLossError(absl::StrCat("gzip stream is corrupt at compressed offset ", CompressedAt(),
                                              ": ", stream_.message()));
    }
    TIDE_RETURN_IF_ERROR(AtBlockBoundary());
    if (produced != 0) return produced;
  }
}

}  // namespace tide::format
