#include "oci/blob_writer.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tide::oci {

namespace {

absl::Status Errno(std::string_view what, const std::filesystem::path& path) {
  return absl::InternalError(absl::StrCat(std::string(what), " ", path.string(), ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<BlobWriter> BlobWriter::Create(const std::filesystem::path& layout_dir) {
  BlobWriter w;
  w.layout_dir_ = layout_dir;
  std::error_code ec;
  std::filesystem::create_directories(layout_dir / "blobs" / "sha256", ec);
  if (ec)
    return absl::InternalError(absl::StrCat("create ", layout_dir.string(), "/blobs/sha256: ", ec.message()));
  std::string tmpl = (layout_dir / "blobs" / ".tmp-blob-XXXXXX").string();
  int fd = mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return Errno("create temp blob in", layout_dir);
  w.fd_.reset(fd);
  w.temp_path_ = tmpl;
  return w;
}

BlobWriter::BlobWriter(BlobWriter&& o) noexcept
    : layout_dir_(std::move(o.layout_dir_)),
      temp_path_(std::exchange(o.temp_path_, {})),
      fd_(std::move(o.fd_)),
      hash_(std::move(o.hash_)),
      size_(o.size_) {}

BlobWriter& BlobWriter::operator=(BlobWriter&& o) noexcept {
  if (this != &o) {
    Discard();
    layout_dir_ = std::move(o.layout_dir_);
    temp_path_ = std::exchange(o.temp_path_, {});
    fd_ = std::move(o.fd_);
    hash_ = std::move(o.hash_);
    size_ = o.size_;
  }
  return *this;
}

BlobWriter::~BlobWriter() { Discard(); }

void BlobWriter::Discard() {
  fd_.reset();
  if (!temp_path_.empty()) {
    std::error_code ec;
    std::filesystem::remove(temp_path_, ec);
    temp_path_.clear();
  }
}

absl::Status BlobWriter::Write(std::string_view data) {
  if (!fd_.valid()) return absl::FailedPreconditionError("blob writer already committed or discarded");
  hash_.Update(data);
  size_ += static_cast<int64_t>(data.size());
  while (!data.empty()) {
    ssize_t n = ::write(fd_.get(), data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write", temp_path_);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<Digest> BlobWriter::Commit(const std::optional<Digest>& expected) {
  if (!fd_.valid()) return absl::FailedPreconditionError("blob writer already committed or discarded");
  Digest digest = Digest::FromSha256(hash_.Finish());
  if (expected && *expected != digest) {
    Discard();
    return absl::DataLossError(
        absl::StrCat("blob digest mismatch: expected ", expected->str(), ", content is ", digest.str()));
  }
  if (::fsync(fd_.get()) != 0) return Errno("fsync", temp_path_);
  fd_.reset();
  std::filesystem::path final_path = layout_dir_ / "blobs" / "sha256" / std::string(digest.hex());
  if (::rename(temp_path_.c_str(), final_path.c_str()) != 0) return Errno("rename into", final_path);
  temp_path_.clear();
  return digest;
}

}  // namespace tide::oci
