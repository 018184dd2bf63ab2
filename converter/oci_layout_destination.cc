#include "converter/oci_layout_destination.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tide::converter {

namespace {

class LayoutLayerOutput final : public LayerOutput {
 public:
  explicit LayoutLayerOutput(oci::BlobWriter writer) : writer_(std::move(writer)) {}
  absl::Status Write(std::string_view data) override { return writer_.Write(data); }
  absl::Status Commit(const Digest& digest) override { return writer_.Commit(digest).status(); }

 private:
  oci::BlobWriter writer_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<OciLayoutDestination>> OciLayoutDestination::Open(const std::string& dir,
                                                                                 const std::string& tag) {
  TIDE_ASSIGN_OR_RETURN(oci::OciLayout layout, oci::OciLayout::OpenOrCreate(dir));
  return std::unique_ptr<OciLayoutDestination>(new OciLayoutDestination(std::move(layout), tag));
}

std::string OciLayoutDestination::Describe() const {
  return absl::StrCat("oci:", layout_.dir().string(), ":", tag_);
}

absl::StatusOr<std::unique_ptr<LayerOutput>> OciLayoutDestination::NewLayer() {
  TIDE_ASSIGN_OR_RETURN(oci::BlobWriter w, layout_.NewBlobWriter());
  return std::unique_ptr<LayerOutput>(new LayoutLayerOutput(std::move(w)));
}

absl::Status OciLayoutDestination::PutBlob(const oci::Descriptor& desc, std::string_view bytes) {
  TIDE_ASSIGN_OR_RETURN(oci::BlobWriter w, layout_.NewBlobWriter());
  TIDE_RETURN_IF_ERROR(w.Write(bytes));
  return w.Commit(desc.digest).status();
}

absl::Status OciLayoutDestination::PutManifest(const oci::Descriptor& desc, std::string_view bytes) {
  return PutBlob(desc, bytes);
}

absl::Status OciLayoutDestination::Publish(const oci::Descriptor& root, std::string_view bytes) {
  TIDE_RETURN_IF_ERROR(PutBlob(root, bytes));
  return layout_.SetTag(tag_, root);
}

}  // namespace tide::converter
