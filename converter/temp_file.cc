#include "converter/temp_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tide::converter {

absl::StatusOr<TempFile> TempFile::Create(const std::string& prefix) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string path =
      absl::StrCat(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp", "/", prefix, "-XXXXXX");
  int fd = mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("create temp file ", path, ": ", std::strerror(errno)));
  return TempFile(UniqueFd(fd), std::move(path));
}

TempFile::~TempFile() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

}  // namespace tide::converter
