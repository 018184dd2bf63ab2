#include "fetch/registry_blob_source.h"

#include "absl/strings/str_cat.h"

namespace tide::fetch {

RegistryBlobSource::RegistryBlobSource(std::unique_ptr<registry::BlobRangeReader> reader)
    : reader_(std::move(reader)),
      name_(absl::StrCat(reader_->repo().registry(), "/", reader_->repo().repository(), "@",
                         reader_->digest().str())) {}

absl::StatusOr<std::string> RegistryBlobSource::ReadAt(uint64_t offset, uint64_t length) {
  return reader_->ReadAt(offset, length);
}

absl::Status RegistryBlobSource::ReadInto(uint64_t offset, std::span<char> out, const Progress& progress,
                                          Deadline deadline) {
  return reader_->ReadInto(offset, out, progress, deadline);
}

}  // namespace tide::fetch
