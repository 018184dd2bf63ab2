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
    const size_t limit = own_frames_ ? file_chunk_size_ : chunk_size_;
    size_t take = std::min<size_t>(bytes.size(), limit - pending_.size());
    const bool cut_ahead = own_frames_ && next_cut_ < cuts_.size();
    if (cut_ahead) take = static_cast<size_t>(std::min<uint64_t>(take, cuts_[next_cut_] - file_offset_));
    pending_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    if (own_frames_) file_offset_ += take;
    if (cut_ahead && file_offset_ == cuts_[next_cut_]) {
      ++next_cut_;
      TIDE_RETURN_IF_ERROR(Emit());
    } else if (pending_.size() == limit) {
      TIDE_RETURN_IF_ERROR(Emit());
    }
  }
  return absl::OkStatus();
}

absl::Status FrameLayout::Shared(std::string_view bytes) { return Append(bytes); }

absl::Status FrameLayout::BeginFile(uint64_t size, std::span<const uint64_t> cuts) {
  own_frames_ = size > 0 && size >= small_threshold_;
  cuts_.clear();
  next_cut_ = 0;
  file_offset_ = 0;
  if (own_frames_) {
    for (uint64_t c : cuts) {
      // Only ascending cuts inside the file; anything else would make an empty frame.
      if (c > 0 && c < size && (cuts_.empty() || c > cuts_.back())) cuts_.push_back(c);
    }
    return Emit();
  }
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
