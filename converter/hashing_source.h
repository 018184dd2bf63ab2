#ifndef TIDE_CONVERTER_HASHING_SOURCE_H_
#define TIDE_CONVERTER_HASHING_SOURCE_H_

#include <atomic>
#include <cstdint>

#include "common/digest.h"
#include "common/sha256.h"
#include "format/byte_io.h"

namespace tide::converter {

// Passes bytes through while hashing and counting them, so a stream can be checked against the
// digest a manifest or config promises once it has been consumed. The count is readable from other
// threads (progress display).
class HashingSource final : public format::ByteSource {
 public:
  explicit HashingSource(format::ByteSource& inner) : inner_(inner) {}
  absl::StatusOr<size_t> Read(char* buffer, size_t size) override;

  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  bool at_end() const { return at_end_; }
  // Reads whatever the consumer left unread, so the digest covers the whole stream.
  absl::Status Drain();
  Digest Finish();

 private:
  format::ByteSource& inner_;
  Sha256 hash_;
  std::atomic<uint64_t> bytes_{0};
  bool at_end_ = false;
};

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_HASHING_SOURCE_H_
