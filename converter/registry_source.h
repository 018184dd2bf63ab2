#ifndef TIDE_CONVERTER_REGISTRY_SOURCE_H_
#define TIDE_CONVERTER_REGISTRY_SOURCE_H_

#include <memory>
#include <string>

#include "converter/image_source.h"
#include "registry/reference.h"
#include "registry/registry_client.h"

namespace tide::converter {

// Reads an image from a registry. Layers are downloaded (verified) into an unlinked temp file and
// streamed from there.
class RegistrySource final : public ImageSource {
 public:
  static absl::StatusOr<std::unique_ptr<RegistrySource>> Create(
      std::shared_ptr<registry::RegistryClient> client, const std::string& reference);

  std::string Describe() const override { return "docker://" + ref_.String(); }
  std::string Tag() const override { return ref_.tag(); }
  absl::StatusOr<RootObject> FetchRoot() override;
  absl::StatusOr<std::string> FetchBlob(const oci::Descriptor& desc) override;
  absl::StatusOr<std::unique_ptr<format::ByteSource>> OpenLayer(const oci::Descriptor& desc) override;
  absl::StatusOr<std::unique_ptr<format::RangeReader>> OpenLayerRanges(const oci::Descriptor& desc) override;

 private:
  RegistrySource(std::shared_ptr<registry::RegistryClient> client, registry::Reference ref)
      : client_(std::move(client)), ref_(std::move(ref)) {}
  std::shared_ptr<registry::RegistryClient> client_;
  registry::Reference ref_;
};

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_REGISTRY_SOURCE_H_
