#include "converter/read_ahead_source.h"

#include <algorithm>
#include <cstring>

namespace tide::converter {

ReadAheadSource::ReadAheadSource(format::ByteSource& inner, size_t block_size, size_t depth)
    : inner_(inner), block_size_(std::max<size_t>(block_size, 1)), depth_(std::max<size_t>(depth, 1)) {
  thread_ = std::thread([this] { Fill(); });
}

ReadAheadSource::~ReadAheadSource() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ReadAheadSource::Fill() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || blocks_.size() < depth_; });
      if (stop_) return;
    }
    std::string block(block_size_, '\0');
    size_t filled = 0;
    absl::Status status;
    // Fill whole blocks so the consumer sees few, large pieces.
    while (filled < block.size()) {
      absl::StatusOr<size_t> n = inner_.Read(block.data() + filled, block.size() - filled);
      if (!n.ok()) {
        status = n.status();
        break;
      }
      if (*n == 0) break;
      filled += *n;
    }
    block.resize(filled);
    std::lock_guard lock(mu_);
    if (filled > 0) blocks_.push_back(std::move(block));
    if (!status.ok() || filled < block_size_) {
      error_ = status;
      done_ = true;
      cv_.notify_all();
      return;
    }
    cv_.notify_all();
  }
}

absl::StatusOr<size_t> ReadAheadSource::Read(char* buffer, size_t size) {
  if (size == 0) return 0;
  if (current_pos_ == current_.size()) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !blocks_.empty() || done_; });
    if (blocks_.empty()) {
      if (!error_.ok()) return error_;
      return 0;
    }
    current_ = std::move(blocks_.front());
    blocks_.pop_front();
    current_pos_ = 0;
    cv_.notify_all();
  }
  size_t n = std::min(size, current_.size() - current_pos_);
  std::memcpy(buffer, current_.data() + current_pos_, n);
  current_pos_ += n;
  return n;
}

}  // namespace tide::converter
