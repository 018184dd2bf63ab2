#ifndef TIDE_FETCH_REGISTRY_BLOB_SOURCE_H_
#define TIDE_FETCH_REGISTRY_BLOB_SOURCE_H_

#include <memory>
#include <string>

#include "fetch/blob_source.h"
#include "registry/blob_range_reader.h"

namespace tide::fetch {

// A layer blob read with HTTP range requests from its registry (or a mirror from hosts.toml).
class RegistryBlobSource : public BlobSource {
 public:
  explicit RegistryBlobSource(std::unique_ptr<registry::BlobRangeReader> reader);
  absl::StatusOr<std::string> ReadAt(uint64_t offset, uint64_t length) override;
  absl::Status ReadInto(uint64_t offset, std::span<char> out, const Progress& progress,
                        Deadline deadline) override;
  std::string Describe() const override { return name_; }

 private:
  std::unique_ptr<registry::BlobRangeReader> reader_;
  std::string name_;
};

}  // namespace tide::fetch

#endif  // TIDE_FETCH_REGISTRY_BLOB_SOURCE_H_
