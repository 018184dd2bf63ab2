#ifndef TIDE_CONVERTER_TEMP_FILE_H_
#define TIDE_CONVERTER_TEMP_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace tide::converter {

// A scratch file under $TMPDIR (or /tmp), removed when the object goes away. Layers pulled from or
// pushed to a registry pass through these so no layer is ever held in memory.
class TempFile {
 public:
  static absl::StatusOr<TempFile> Create(const std::string& prefix);
  TempFile(TempFile&& o) noexcept : fd_(std::move(o.fd_)), path_(std::exchange(o.path_, {})) {}
  TempFile& operator=(TempFile&&) = delete;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile();

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  UniqueFd ReleaseFd() { return std::move(fd_); }

 private:
  TempFile(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_TEMP_FILE_H_
