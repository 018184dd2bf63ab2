#ifndef TIDE_FORMAT_FRAME_LAYOUT_H_
#define TIDE_FORMAT_FRAME_LAYOUT_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/sha256.h"
#include "format/frame_pipeline.h"

namespace tide::format {

// Cuts the tar stream into frames: content of regular files at least `small_file_threshold` bytes long
// gets frames of its own (file_chunk_size each, aligned to the file start so equal files give equal
// chunks, or at the given cuts); everything else (headers, padding, small files, the trailer) is packed into
// shared frames of up to chunk_size bytes.
class FrameLayout {
 public:
  FrameLayout(FramePipeline& pipeline, uint32_t chunk_size, uint32_t file_chunk_size,
              uint32_t small_file_threshold)
      : pipeline_(pipeline),
        chunk_size_(chunk_size),
        file_chunk_size_(file_chunk_size),
        small_threshold_(small_file_threshold) {}

  // Tar bytes outside file contents.
  absl::Status Shared(std::string_view bytes);
  // File content: BeginFile(size), Data() for all `size` bytes, EndFile(). A file with frames of its
  // own also ends a frame at each of `cuts` (ascending file offsets; StartupCuts).
  absl::Status BeginFile(uint64_t size, std::span<const uint64_t> cuts = {});
  absl::Status Data(std::string_view bytes);
  absl::Status EndFile();
  // Ends the current shared frame (e.g. at the end of the startup region or the stream).
  absl::Status Flush();

  uint64_t offset() const { return offset_; }  // tar bytes consumed
  // Frames submitted so far (the id the next frame will get).
  uint32_t frame_count() const { return pipeline_.submitted(); }
  Sha256Bytes FinishTarHash() { return tar_hash_.Finish(); }

 private:
  absl::Status Append(std::string_view bytes);
  absl::Status Emit();

  FramePipeline& pipeline_;
  const uint32_t chunk_size_;
  const uint32_t file_chunk_size_;  // at most chunk_size_
  const uint32_t small_threshold_;
  std::string pending_;
  bool own_frames_ = false;     // inside a file that gets frames of its own
  std::vector<uint64_t> cuts_;  // of the current file, ascending
  size_t next_cut_ = 0;
  uint64_t file_offset_ = 0;  // bytes of the current file consumed
  uint64_t offset_ = 0;
  Sha256 tar_hash_;
};

}  // namespace tide::format

#endif  // TIDE_FORMAT_FRAME_LAYOUT_H_
