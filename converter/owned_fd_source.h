#ifndef TIDE_CONVERTER_OWNED_FD_SOURCE_H_
#define TIDE_CONVERTER_OWNED_FD_SOURCE_H_

#include "common/unique_fd.h"
#include "format/byte_io.h"

namespace tide::converter {

// A ByteSource that owns the file it reads (format::FdSource borrows its fd).
class OwnedFdSource final : public format::ByteSource {
 public:
  explicit OwnedFdSource(UniqueFd fd) : fd_(std::move(fd)), reader_(fd_.get()) {}
  absl::StatusOr<size_t> Read(char* buffer, size_t size) override { return reader_.Read(buffer, size); }

 private:
  UniqueFd fd_;
  format::FdSource reader_;
};

// A RangeReader that owns the file it reads.
class OwnedFdRangeReader final : public format::RangeReader {
 public:
  explicit OwnedFdRangeReader(UniqueFd fd) : fd_(std::move(fd)), reader_(fd_.get()) {}
  absl::Status ReadAt(uint64_t offset, size_t size, std::string* out) override {
    return reader_.ReadAt(offset, size, out);
  }

 private:
  UniqueFd fd_;
  format::FdRangeReader reader_;
};

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_OWNED_FD_SOURCE_H_
