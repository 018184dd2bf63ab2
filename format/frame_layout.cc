#include "format/frame_layout.h"

#include <algorithm>

#include "common/status_macros.h"

namespace tide::format {

absl::Status FrameLayout::Emit() {
  if (pending_.empty()) return absl::OkStatus();
  std::string frame;
  frame.reserve(chunk_size_);
  frame.swap(pending_);
  auto id = pipeline_.Submit(std::move(frame));
  return id.status();
}

absl::Status FrameLayout::Append(std::string_view bytes) {
  tar_hash_.Update(bytes);
  offset_ += bytes.size();
  while (!bytes.empty()) {
    size_t take = std::min<size_t>(bytes.size(), chunk_size_ - pending_.size());
    pending_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    if (pending_.size() == chunk_size_) TIDE_RETURN_IF_ERROR(Emit());
  }
  return absl::OkStatus();
}

absl::Status FrameLayout::Shared(std::string_view bytes) { return Append(bytes); }

absl::Status FrameLayout::BeginFile(uint64_t size) {
  own_frames_ = size > 0 && size >= small_threshold_;
  if (own_frames_) return Emit();
  return absl::OkStatus();
}

absl::Status FrameLayout::Data(std::string_view bytes) { return Append(bytes); }

absl::Status FrameLayout::EndFile() {
  if (!own_frames_) return absl::OkStatus();
  own_frames_ = false;
  return Emit();
}

absl::Status FrameLayout::Flush() { return Emit(); }

}  // namespace tide::format
