#ifndef TIDE_CONVERTER_REGISTRY_DESTINATION_H_
#define TIDE_CONVERTER_REGISTRY_DESTINATION_H_

#include <memory>
#include <string>

#include "converter/image_destination.h"
#include "registry/reference.h"
#include "registry/registry_client.h"

namespace tide::converter {

// Pushes an image to a registry: layers are spooled to a temp file and uploaded on Commit();
// Publish() pushes the root manifest or index under the tag last.
class RegistryDestination final : public ImageDestination {
 public:
  static absl::StatusOr<std::unique_ptr<RegistryDestination>> Create(
      std::shared_ptr<registry::RegistryClient> client, const std::string& reference);

  std::string Describe() const override { return "docker://" + ref_.String(); }
  absl::StatusOr<std::unique_ptr<LayerOutput>> NewLayer() override;
  absl::Status PutBlob(const oci::Descriptor& desc, std::string_view bytes) override;
  absl::Status PutManifest(const oci::Descriptor& desc, std::string_view bytes) override;
  absl::Status Publish(const oci::Descriptor& root, std::string_view bytes) override;
  std::map<std::string, std::string> LayerAnnotations() const override;

 private:
  RegistryDestination(std::shared_ptr<registry::RegistryClient> client, registry::Reference ref)
      : client_(std::move(client)), ref_(std::move(ref)) {}
  std::shared_ptr<registry::RegistryClient> client_;
  registry::Reference ref_;
};

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_REGISTRY_DESTINATION_H_
