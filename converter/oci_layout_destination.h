#ifndef TIDE_CONVERTER_OCI_LAYOUT_DESTINATION_H_
#define TIDE_CONVERTER_OCI_LAYOUT_DESTINATION_H_

#include <memory>
#include <string>

#include "converter/image_destination.h"
#include "oci/oci_layout.h"

namespace tide::converter {

// Writes into an OCI layout (created if absent); Publish() tags the root in index.json.
class OciLayoutDestination final : public ImageDestination {
 public:
  static absl::StatusOr<std::unique_ptr<OciLayoutDestination>> Open(const std::string& dir,
                                                                    const std::string& tag);

  std::string Describe() const override;
  absl::StatusOr<std::unique_ptr<LayerOutput>> NewLayer() override;
  absl::Status PutBlob(const oci::Descriptor& desc, std::string_view bytes) override;
  absl::Status PutManifest(const oci::Descriptor& desc, std::string_view bytes) override;
  absl::Status Publish(const oci::Descriptor& root, std::string_view bytes) override;

 private:
  OciLayoutDestination(oci::OciLayout layout, std::string tag)
      : layout_(std::move(layout)), tag_(std::move(tag)) {}
  oci::OciLayout layout_;
  std::string tag_;
};

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_OCI_LAYOUT_DESTINATION_H_
