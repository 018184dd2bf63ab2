#ifndef TIDE_CONVERTER_IMAGE_ENDPOINTS_H_
#define TIDE_CONVERTER_IMAGE_ENDPOINTS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "converter/image_destination.h"
#include "converter/image_ref.h"
#include "converter/image_source.h"
#include "registry/registry_client.h"

namespace tide::converter {

// Registry settings shared by every subcommand that talks to registries.
struct RegistryFlags {
  bool plain_http = false;
  std::string hosts_dir;
};

// Opens sources and destinations for image references, creating one registry client on first use
// (one per process, so connections and tokens are shared).
class ImageEndpoints {
 public:
  explicit ImageEndpoints(RegistryFlags flags) : flags_(std::move(flags)) {}

  absl::StatusOr<std::unique_ptr<ImageSource>> OpenSource(const ImageRef& ref);
  // default_tag names the image in an OCI layout destination given without a tag.
  absl::StatusOr<std::unique_ptr<ImageDestination>> OpenDestination(const ImageRef& ref,
                                                                    const std::string& default_tag);
  // The process's registry client (created on first use).
  absl::StatusOr<std::shared_ptr<registry::RegistryClient>> Client();

 private:
  RegistryFlags flags_;
  std::shared_ptr<registry::RegistryClient> client_;
};

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_IMAGE_ENDPOINTS_H_
