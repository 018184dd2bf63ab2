#include "converter/registry_source.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "converter/owned_fd_source.h"
#include "converter/temp_file.h"
#include "format/byte_io.h"
#include "oci/media_types.h"
#include "registry/blob_range_reader.h"

namespace tide::converter {

absl::StatusOr<std::unique_ptr<RegistrySource>> RegistrySource::Create(
    std::shared_ptr<registry::RegistryClient> client, const std::string& reference) {
  TIDE_ASSIGN_OR_RETURN(registry::Reference ref, registry::Reference::Parse(reference));
  return std::unique_ptr<RegistrySource>(new RegistrySource(std::move(client), std::move(ref)));
}

absl::StatusOr<RootObject> RegistrySource::FetchRoot() {
  TIDE_ASSIGN_OR_RETURN(registry::FetchedManifest m, client_->FetchManifest(ref_));
  RootObject root;
  root.descriptor.media_type = m.media_type;
  root.descriptor.digest = m.digest;
  root.descriptor.size = static_cast<int64_t>(m.bytes.size());
  root.bytes = std::move(m.bytes);
  return root;
}

absl::StatusOr<std::string> RegistrySource::FetchBlob(const oci::Descriptor& desc) {
  if (oci::IsManifest(desc.media_type) || oci::IsIndex(desc.media_type)) {
    TIDE_ASSIGN_OR_RETURN(registry::FetchedManifest m, client_->FetchManifest(ref_, desc.digest));
    if (static_cast<int64_t>(m.bytes.size()) != desc.size) {
      return absl::DataLossError(absl::StrCat("manifest ", desc.digest.str(), " in ", ref_.String(), " has ",
                                              m.bytes.size(), " bytes, descriptor says ", desc.size));
    }
    return std::move(m.bytes);
  }
  return client_->FetchBlobBytes(ref_, desc.digest, desc.size);
}

absl::StatusOr<std::unique_ptr<format::ByteSource>> RegistrySource::OpenLayer(const oci::Descriptor& desc) {
  TIDE_ASSIGN_OR_RETURN(TempFile tmp, TempFile::Create("tidectl-layer"));
  format::FdSink sink(tmp.fd());
  TIDE_RETURN_IF_ERROR(client_->FetchBlob(
      ref_, desc.digest, [&](std::string_view data) { return sink.Write(data); }, desc.size));
  if (::lseek(tmp.fd(), 0, SEEK_SET) != 0) {
    return absl::InternalError(absl::StrCat("seek ", tmp.path(), ": ", std::strerror(errno)));
  }
  // The file is unlinked when tmp goes out of scope; the open fd keeps its content readable.
  return std::unique_ptr<format::ByteSource>(new OwnedFdSource(tmp.ReleaseFd()));
}

}  // namespace tide::converter

namespace tide::converter {

namespace {

// Adapts the registry client's ranged blob reads to the format library's RangeReader.
class RegistryRangeReader final : public format::RangeReader {
 public:
  explicit RegistryRangeReader(std::unique_ptr<registry::BlobRangeReader> reader)
      : reader_(std::move(reader)) {}
  absl::Status ReadAt(uint64_t offset, size_t size, std::string* out) override {
    TIDE_ASSIGN_OR_RETURN(*out, reader_->ReadAt(offset, size));
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<registry::BlobRangeReader> reader_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<format::RangeReader>> RegistrySource::OpenLayerRanges(
    const oci::Descriptor& desc) {
  TIDE_ASSIGN_OR_RETURN(auto reader, client_->OpenBlob(ref_, desc.digest, desc.size));
  return std::unique_ptr<format::RangeReader>(new RegistryRangeReader(std::move(reader)));
}

}  // namespace tide::converter
