#ifndef TIDE_CONVERTER_IMAGE_DESTINATION_H_
#define TIDE_CONVERTER_IMAGE_DESTINATION_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/digest.h"
#include "format/byte_io.h"
#include "oci/descriptor.h"

namespace tide::converter {

// A layer blob being written. Nothing becomes visible at the destination before Commit(); dropping
// an uncommitted output discards what was written.
class LayerOutput : public format::ByteSink {
 public:
  // Stores the blob, failing if its content does not hash to `digest`.
  virtual absl::Status Commit(const Digest& digest) = 0;
};

// Where a conversion writes the image. Blobs and untagged manifests go first; Publish() makes the
// result visible under the destination tag in one atomic step, so a failed conversion never leaves
// a partial image under that tag.
class ImageDestination {
 public:
  virtual ~ImageDestination() = default;
  virtual std::string Describe() const = 0;
  virtual absl::StatusOr<std::unique_ptr<LayerOutput>> NewLayer() = 0;
  virtual absl::Status PutBlob(const oci::Descriptor& desc, std::string_view bytes) = 0;
  // A manifest that an index will reference, stored by digest only.
  virtual absl::Status PutManifest(const oci::Descriptor& desc, std::string_view bytes) = 0;
  virtual absl::Status Publish(const oci::Descriptor& root, std::string_view bytes) = 0;
  // Annotations every converted layer descriptor gets (e.g. the repository pushed to).
  virtual std::map<std::string, std::string> LayerAnnotations() const { return {}; }
};

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_IMAGE_DESTINATION_H_
