#ifndef TIDE_CONVERTER_IMAGE_SOURCE_H_
#define TIDE_CONVERTER_IMAGE_SOURCE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "format/byte_io.h"
#include "oci/descriptor.h"

namespace tide::converter {

// The manifest or index an image reference names, with its exact bytes.
struct RootObject {
  oci::Descriptor descriptor;
  std::string bytes;
};

// Where a conversion reads an image from (an OCI layout or a registry).
class ImageSource {
 public:
  virtual ~ImageSource() = default;
  virtual std::string Describe() const = 0;
  // The tag the source was addressed by, if any (a default for the destination).
  virtual std::string Tag() const = 0;
  virtual absl::StatusOr<RootObject> FetchRoot() = 0;
  // A small blob (manifest, config), verified against desc's digest and size.
  virtual absl::StatusOr<std::string> FetchBlob(const oci::Descriptor& desc) = 0;
  // A layer's stored (still compressed) bytes as a stream. The caller verifies the digest.
  virtual absl::StatusOr<std::unique_ptr<format::ByteSource>> OpenLayer(const oci::Descriptor& desc) = 0;
  // Random access to a layer blob, for reading a tide index without fetching the whole layer.
  virtual absl::StatusOr<std::unique_ptr<format::RangeReader>> OpenLayerRanges(
      const oci::Descriptor& desc) = 0;
};

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_IMAGE_SOURCE_H_
