#ifndef TIDE_FORMAT_GZIP_INDEX_CHECKPOINTING_INFLATER_H_
#define TIDE_FORMAT_GZIP_INDEX_CHECKPOINTING_INFLATER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sha256.h"
#include "format/byte_io.h"
#include "format/frame_pipeline.h"
#include "format/gzip_index/checkpoint_spacing.h"
#include "format/inflate_stream.h"

namespace tide::format {

// One recorded checkpoint, before its window is compressed.
struct RawCheckpoint {
  uint64_t compressed_offset = 0;  // first whole byte of the block
  uint64_t uncompressed_offset = 0;
  uint8_t bits = 0;
  uint8_t prime = 0;
  bool member_start = false;  // the first block of a gzip member after the first: no window
  std::string window;         // the up to 32 KiB of output before the checkpoint
};

// Inflates a gzip blob as a ByteSource and records, on the way, inflate checkpoints at deflate block
// boundaries, the sha256 of each span between them, the blob's sha256 and the output's (the
// diff_id). Spans are described as FrameRecords so the tide index builder takes them. A blob of
// several gzip members (pigz, concatenated streams) gets a checkpoint at the first block of each;
// the span before it also covers the previous member's trailer and this member's header.
class CheckpointingInflater final : public ByteSource {
 public:
  CheckpointingInflater(ByteSource& blob, CheckpointSpacing spacing);
  ~CheckpointingInflater() override;
  CheckpointingInflater(const CheckpointingInflater&) = delete;
  CheckpointingInflater& operator=(const CheckpointingInflater&) = delete;

  absl::StatusOr<size_t> Read(char* buffer, size_t size) override;

  // After Read returned 0: the spans, checkpoints (one per span) and totals.
  const std::vector<FrameRecord>& spans() const { return spans_; }
  std::vector<RawCheckpoint>& checkpoints() { return checkpoints_; }
  uint64_t data_start() const { return checkpoints_.empty() ? 0 : checkpoints_.front().compressed_offset; }
  uint64_t blob_size() const { return blob_size_; }
  uint64_t tar_size() const { return UncompressedAt(); }
  Sha256Bytes blob_sha256() { return blob_hash_.Finish(); }
  Sha256Bytes tar_sha256() { return tar_hash_.Finish(); }

 private:
  uint64_t CompressedAt() const { return member_in_base_ + strm_.total_in; }
  uint64_t UncompressedAt() const { return member_out_base_ + strm_.total_out; }
  absl::Status Refill();
  absl::Status EndMember();
  void Consume(const char* data, size_t size);
  absl::Status AtBlockBoundary();
  absl::Status CloseSpan(uint64_t compressed_end);
  absl::Status Finish();

  ByteSource& blob_;
  const CheckpointSpacing spacing_;
  InflateStream stream_{16 + 15};  // a gzip wrapper only (no zlib or raw streams), 32 KiB window
  z_stream& strm_ = stream_.z();
  bool input_done_ = false;
  bool done_ = false;
  // zlib counts each member from 0: where the current member starts, in the blob and the output.
  uint64_t member_in_base_ = 0;
  uint64_t member_out_base_ = 0;
  size_t members_ = 1;
  bool in_member_header_ = true;  // before the current member's first deflate block
  std::string in_;
  uint8_t last_byte_ = 0;  // of the previous input buffer
  uint64_t blob_size_ = 0;
  std::string ring_;  // the last 32 KiB of output, circular
  size_t ring_pos_ = 0;
  Sha256 blob_hash_;
  Sha256 tar_hash_;
  Sha256 span_hash_;
  std::vector<FrameRecord> spans_;
  std::vector<RawCheckpoint> checkpoints_;
};

}  // namespace tide::format

#endif  // TIDE_FORMAT_GZIP_INDEX_CHECKPOINTING_INFLATER_H_
