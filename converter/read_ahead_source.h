#ifndef TIDE_CONVERTER_READ_AHEAD_SOURCE_H_
#define TIDE_CONVERTER_READ_AHEAD_SOURCE_H_

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "format/byte_io.h"

namespace tide::converter {

// Reads `inner` on a thread of its own, up to `depth` blocks ahead, so that reading and
// decompressing the source layer overlaps with the tar parsing and hashing of the consumer instead of
// adding to it. `inner` belongs to that thread until Read() has returned end of stream, an error,
// or the object is destroyed.
class ReadAheadSource final : public format::ByteSource {
 public:
  explicit ReadAheadSource(format::ByteSource& inner, size_t block_size = 1 << 20, size_t depth = 4);
  ~ReadAheadSource() override;
  ReadAheadSource(const ReadAheadSource&) = delete;
  ReadAheadSource& operator=(const ReadAheadSource&) = delete;

  absl::StatusOr<size_t> Read(char* buffer, size_t size) override;

 private:
  void Fill();

  format::ByteSource& inner_;
  const size_t block_size_;
  const size_t depth_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> blocks_;  // guarded by mu_
  absl::Status error_;              // guarded by mu_
  bool done_ = false;               // guarded by mu_: inner reached its end or failed
  bool stop_ = false;               // guarded by mu_
  std::string current_;             // consumer side only
  size_t current_pos_ = 0;
  std::thread thread_;
};

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_READ_AHEAD_SOURCE_H_
