#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "side_index/side_index_destination.h"

namespace tide::side_index {
namespace {

class LayoutDestination final : public SideIndexDestination {
 public:
  explicit LayoutDestination(oci::OciLayout layout) : layout_(std::move(layout)) {}

  std::string Describe() const override { return absl::StrCat("oci:", layout_.dir().string()); }

  absl::Status CheckHoldsSubject(const oci::Descriptor& subject) override {
    if (layout_.HasBlob(subject.digest)) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat(Describe(), " does not hold the image manifest ", subject.digest.str()));
  }

  absl::Status PutBlob(const Digest& digest, std::string_view bytes) override {
    if (layout_.HasBlob(digest)) return absl::OkStatus();
    TIDE_ASSIGN_OR_RETURN(Digest written, layout_.WriteBlob(bytes));
    if (written != digest) {
      return absl::InternalError(
          absl::StrCat("blob written to ", Describe(), " is ", written.str(), ", expected ", digest.str()));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> PutReferrer(const oci::Descriptor& subject, const oci::Descriptor& artifact,
                                          std::string_view bytes) override {
    TIDE_RETURN_IF_ERROR(PutBlob(artifact.digest, bytes));
    TIDE_RETURN_IF_ERROR(layout_.AddReferrer(artifact, subject.digest));
    return std::string("index.json");
  }

 private:
  oci::OciLayout layout_;
};

}  // namespace

std::unique_ptr<SideIndexDestination> LayoutIndexDestination(oci::OciLayout layout) {
  return std::make_unique<LayoutDestination>(std::move(layout));
}

}  // namespace tide::side_index
