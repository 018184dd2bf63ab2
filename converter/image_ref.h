#ifndef TIDE_CONVERTER_IMAGE_REF_H_
#define TIDE_CONVERTER_IMAGE_REF_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tide::converter {

// A skopeo-style image location: "oci:DIR[:TAG]" or "docker://HOST/REPO[:TAG|@DIGEST]".
struct ImageRef {
  enum class Transport { kOciLayout, kRegistry };
  Transport transport = Transport::kOciLayout;
  std::string layout_dir;  // kOciLayout
  std::string tag;         // kOciLayout; may be empty
  std::string reference;   // kRegistry: "HOST/REPO[:TAG|@DIGEST]" (parsed by the registry client)

  static absl::StatusOr<ImageRef> Parse(std::string_view text);
  std::string ToString() const;
};

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_IMAGE_REF_H_
