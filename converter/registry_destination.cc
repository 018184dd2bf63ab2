#include "converter/registry_destination.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "converter/temp_file.h"
#include "format/annotations.h"

namespace tide::converter {

namespace {

class PushingLayerOutput final : public LayerOutput {
 public:
  PushingLayerOutput(std::shared_ptr<registry::RegistryClient> client, registry::Reference repo,
                     TempFile file)
      : client_(std::move(client)), repo_(std::move(repo)), file_(std::move(file)), sink_(file_.fd()) {}
  absl::Status Write(std::string_view data) override { return sink_.Write(data); }
  absl::Status Commit(const Digest& digest) override {
    return client_->PushBlobFile(repo_, digest, file_.path()).status();
  }

 private:
  std::shared_ptr<registry::RegistryClient> client_;
  registry::Reference repo_;
  TempFile file_;
  format::FdSink sink_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RegistryDestination>> RegistryDestination::Create(
    std::shared_ptr<registry::RegistryClient> client, const std::string& reference) {
  TIDE_ASSIGN_OR_RETURN(registry::Reference ref, registry::Reference::Parse(reference));
  if (ref.digest()) {
    return absl::InvalidArgumentError(
        absl::StrCat("destination ", reference, ": cannot push to a digest (its content is not known yet)"));
  }
  return std::unique_ptr<RegistryDestination>(new RegistryDestination(std::move(client), std::move(ref)));
}

absl::StatusOr<std::unique_ptr<LayerOutput>> RegistryDestination::NewLayer() {
  TIDE_ASSIGN_OR_RETURN(TempFile file, TempFile::Create("tidectl-push"));
  return std::unique_ptr<LayerOutput>(new PushingLayerOutput(client_, ref_, std::move(file)));
}

absl::Status RegistryDestination::PutBlob(const oci::Descriptor& desc, std::string_view bytes) {
  return client_->PushBlob(ref_, desc.digest, bytes).status();
}

absl::Status RegistryDestination::PutManifest(const oci::Descriptor& desc, std::string_view bytes) {
  return client_->PushManifest(ref_.WithTag(""), bytes, desc.media_type).status();
}

absl::Status RegistryDestination::Publish(const oci::Descriptor& root, std::string_view bytes) {
  return client_->PushManifest(ref_, bytes, root.media_type).status();
}

std::map<std::string, std::string> RegistryDestination::LayerAnnotations() const {
  return {
      {std::string(format::kAnnotationRepository), absl::StrCat(ref_.registry(), "/", ref_.repository())}};
}

}  // namespace tide::converter
