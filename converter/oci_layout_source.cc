#include "converter/oci_layout_source.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "converter/owned_fd_source.h"

namespace tide::converter {

absl::StatusOr<std::unique_ptr<OciLayoutSource>> OciLayoutSource::Open(const std::string& dir,
                                                                       const std::string& tag) {
  TIDE_ASSIGN_OR_RETURN(oci::OciLayout layout, oci::OciLayout::Open(dir));
  return std::unique_ptr<OciLayoutSource>(new OciLayoutSource(std::move(layout), tag));
}

std::string OciLayoutSource::Describe() const {
  return tag_.empty() ? absl::StrCat("oci:", layout_.dir().string())
                      : absl::StrCat("oci:", layout_.dir().string(), ":", tag_);
}

absl::StatusOr<RootObject> OciLayoutSource::FetchRoot() {
  RootObject root;
  TIDE_ASSIGN_OR_RETURN(root.descriptor, layout_.Resolve(tag_));
  TIDE_ASSIGN_OR_RETURN(root.bytes, FetchBlob(root.descriptor));
  return root;
}

absl::StatusOr<std::string> OciLayoutSource::FetchBlob(const oci::Descriptor& desc) {
  // Manifests and configs are small; a huge one is a malformed image, not something to load.
  constexpr int64_t kMaxDocument = 64 << 20;
  if (desc.size > kMaxDocument) {
    return absl::InvalidArgumentError(absl::StrCat(Describe(), ": ", desc.media_type, " ", desc.digest.str(),
                                                   " is ", desc.size,
                                                   " bytes, too large for a manifest or config"));
  }
  return layout_.ReadBlob(desc.digest, desc.size);
}

absl::StatusOr<std::unique_ptr<format::ByteSource>> OciLayoutSource::OpenLayer(const oci::Descriptor& desc) {
  TIDE_ASSIGN_OR_RETURN(UniqueFd fd, layout_.OpenBlob(desc.digest));
  return std::unique_ptr<format::ByteSource>(new OwnedFdSource(std::move(fd)));
}

}  // namespace tide::converter

namespace tide::converter {

absl::StatusOr<std::unique_ptr<format::RangeReader>> OciLayoutSource::OpenLayerRanges(
    const oci::Descriptor& desc) {
  TIDE_ASSIGN_OR_RETURN(UniqueFd fd, layout_.OpenBlob(desc.digest));
  return std::unique_ptr<format::RangeReader>(new OwnedFdRangeReader(std::move(fd)));
}

}  // namespace tide::converter
