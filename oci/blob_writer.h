#ifndef TIDE_OCI_BLOB_WRITER_H_
#define TIDE_OCI_BLOB_WRITER_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/digest.h"
#include "common/sha256.h"
#include "common/unique_fd.h"

namespace tide::oci {

// Streams one blob into an OCI layout: bytes go to a temp file next to blobs/ while being hashed;
// Commit() fsyncs and renames it to blobs/sha256/<hex>. A writer that is destroyed without a
// successful Commit() removes its temp file, so a failed conversion leaves no partial blob.
class BlobWriter {
 public:
  static absl::StatusOr<BlobWriter> Create(const std::filesystem::path& layout_dir);
  BlobWriter(BlobWriter&&) noexcept;
  BlobWriter& operator=(BlobWriter&&) noexcept;
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;
  ~BlobWriter();

  absl::Status Write(std::string_view data);
  int64_t size() const { return size_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }
  // Finishes the blob. With `expected`, a digest mismatch is an error and nothing is stored.
  absl::StatusOr<Digest> Commit(const std::optional<Digest>& expected = std::nullopt);

 private:
  BlobWriter() = default;
  void Discard();
  std::filesystem::path layout_dir_;
  std::filesystem::path temp_path_;
  UniqueFd fd_;
  Sha256 hash_;
  int64_t size_ = 0;
};

}  // namespace tide::oci

#endif  // TIDE_OCI_BLOB_WRITER_H_
