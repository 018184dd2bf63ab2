#ifndef TIDE_CONVERTER_OCI_LAYOUT_SOURCE_H_
#define TIDE_CONVERTER_OCI_LAYOUT_SOURCE_H_

#include <memory>
#include <string>

#include "converter/image_source.h"
#include "oci/oci_layout.h"

namespace tide::converter {

class OciLayoutSource final : public ImageSource {
 public:
  static absl::StatusOr<std::unique_ptr<OciLayoutSource>> Open(const std::string& dir,
                                                               const std::string& tag);

  std::string Describe() const override;
  std::string Tag() const override { return tag_; }
  absl::StatusOr<RootObject> FetchRoot() override;
  absl::StatusOr<std::string> FetchBlob(const oci::Descriptor& desc) override;
  absl::StatusOr<std::unique_ptr<format::ByteSource>> OpenLayer(const oci::Descriptor& desc) override;
  absl::StatusOr<std::unique_ptr<format::RangeReader>> OpenLayerRanges(const oci::Descriptor& desc) override;

 private:
  OciLayoutSource(oci::OciLayout layout, std::string tag)
      : layout_(std::move(layout)), tag_(std::move(tag)) {}
  oci::OciLayout layout_;
  std::string tag_;
};

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_OCI_LAYOUT_SOURCE_H_
