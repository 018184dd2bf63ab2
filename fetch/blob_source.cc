#include "fetch/blob_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tide::fetch {

absl::Status BlobSource::ReadInto(uint64_t offset, std::span<char> out, const Progress& progress,
                                  Deadline /*deadline*/) {
  absl::StatusOr<std::string> bytes = ReadAt(offset, out.size());
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() != out.size()) {
    return absl::DataLossError(
        absl::StrCat(Describe(), ": read ", bytes->size(), " bytes, asked for ", out.size()));
  }
  std::memcpy(out.data(), bytes->data(), out.size());
  return progress ? progress(out.size()) : absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<FileBlobSource>> FileBlobSource::Open(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return absl::NotFoundError(absl::StrCat("open blob ", path.string(), ": ", std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return absl::InternalError(absl::StrCat("stat blob ", path.string(), ": ", std::strerror(errno)));
  }
  return std::unique_ptr<FileBlobSource>(
      new FileBlobSource(path, std::move(fd), static_cast<uint64_t>(st.st_size)));
}

absl::StatusOr<std::string> FileBlobSource::ReadAt(uint64_t offset, uint64_t length) {
  if (offset > size_ || length > size_ - offset) {
    return absl::OutOfRangeError(
        absl::StrCat("blob ", path_.string(), ": range ", offset, "+", length, " beyond size ", size_));
  }
  std::string out(length, '\0');
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd_.get(), out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::DataLossError(absl::StrCat("read blob ", path_.string(), " at ", offset + done, ": ",
                                              n == 0 ? "unexpected end" : std::strerror(errno)));
    }
    done += static_cast<uint64_t>(n);
  }
  return out;
}

}  // namespace tide::fetch
