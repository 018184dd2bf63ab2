#include "format/byte_io.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide::format {

absl::StatusOr<size_t> StringSource::Read(char* buffer, size_t size) {
  size_t n = std::min(size, data_.size() - pos_);
  std::memcpy(buffer, data_.data() + pos_, n);
  pos_ += n;
  return n;
}

absl::Status StringRangeReader::ReadAt(uint64_t offset, size_t size, std::string* out) {
  if (offset > data_.size() || size > data_.size() - offset) {
    return absl::OutOfRangeError(
        absl::StrCat("range ", offset, "+", size, " is beyond the end of the ", data_.size(), "-byte blob"));
  }
  out->assign(data_.data() + offset, size);
  return absl::OkStatus();
}

absl::StatusOr<size_t> FdSource::Read(char* buffer, size_t size) {
  while (true) {
    ssize_t n = ::read(fd_, buffer, size);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return absl::ErrnoToStatus(errno, "read");
  }
}

absl::Status FdSink::Write(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, "write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status FdRangeReader::ReadAt(uint64_t offset, size_t size, std::string* out) {
  out->resize(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd_, out->data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, "pread");
    }
    if (n == 0) {
      return absl::OutOfRangeError(
          absl::StrCat("range ", offset, "+", size, " is beyond the end of the file"));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status ReadFull(ByteSource& source, char* buffer, size_t size, std::string_view what) {
  size_t done = 0;
  while (done < size) {
    auto n = source.Read(buffer + done, size - done);
    if (!n.ok()) return n.status();
    if (*n == 0) {
      return absl::DataLossError(
          absl::StrCat("truncated input: ", Sv(what), " ends after ", done, " of ", size, " bytes"));
    }
    done += *n;
  }
  return absl::OkStatus();
}

}  // namespace tide::format
