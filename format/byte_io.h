#ifndef TIDE_FORMAT_BYTE_IO_H_
#define TIDE_FORMAT_BYTE_IO_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tide::format {

// A stream of input bytes (a tar file, a decompressor's output, ...).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `size` bytes; returns 0 only at end of stream.
  virtual absl::StatusOr<size_t> Read(char* buffer, size_t size) = 0;
};

// Where output bytes go (a file, a hashing uploader, ...).
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual absl::Status Write(std::string_view data) = 0;
};

// Reads `size` bytes at `offset` of some blob (a file, an HTTP range request, ...) into `out`.
// Used by readers that fetch only the parts of a blob they need.
class RangeReader {
 public:
  virtual ~RangeReader() = default;
  virtual absl::Status ReadAt(uint64_t offset, size_t size, std::string* out) = 0;
};

// Adapts a callable (e.g. a registry ranged GET) to RangeReader.
class CallbackRangeReader final : public RangeReader {
 public:
  using Callback = std::function<absl::Status(uint64_t offset, size_t size, std::string* out)>;
  explicit CallbackRangeReader(Callback callback) : callback_(std::move(callback)) {}
  absl::Status ReadAt(uint64_t offset, size_t size, std::string* out) override {
    return callback_(offset, size, out);
  }

 private:
  Callback callback_;
};

class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string_view data) : data_(data) {}
  absl::StatusOr<size_t> Read(char* buffer, size_t size) override;

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

class StringSink final : public ByteSink {
 public:
  absl::Status Write(std::string_view data) override {
    data_.append(data);
    return absl::OkStatus();
  }
  const std::string& data() const { return data_; }
  std::string& data() { return data_; }

 private:
  std::string data_;
};

class StringRangeReader final : public RangeReader {
 public:
  explicit StringRangeReader(std::string_view data) : data_(data) {}
  absl::Status ReadAt(uint64_t offset, size_t size, std::string* out) override;

 private:
  std::string_view data_;
};

// Reads a file descriptor it does not own (stdin, a pipe, a file).
class FdSource final : public ByteSource {
 public:
  explicit FdSource(int fd) : fd_(fd) {}
  absl::StatusOr<size_t> Read(char* buffer, size_t size) override;

 private:
  int fd_;
};

// Writes to a file descriptor it does not own, retrying short writes.
class FdSink final : public ByteSink {
 public:
  explicit FdSink(int fd) : fd_(fd) {}
  absl::Status Write(std::string_view data) override;

 private:
  int fd_;
};

// pread()s a file descriptor it does not own.
class FdRangeReader final : public RangeReader {
 public:
  explicit FdRangeReader(int fd) : fd_(fd) {}
  absl::Status ReadAt(uint64_t offset, size_t size, std::string* out) override;

 private:
  int fd_;
};

// Reads exactly `size` bytes or fails (naming `what`) if the source ends early.
absl::Status ReadFull(ByteSource& source, char* buffer, size_t size, std::string_view what);

}  // namespace tide::format

#endif  // TIDE_FORMAT_BYTE_IO_H_
