#include "converter/image_endpoints.h"

#include "common/status_macros.h"
#include "converter/oci_layout_destination.h"
#include "converter/oci_layout_source.h"
#include "converter/registry_destination.h"
#include "converter/registry_source.h"

namespace tide::converter {

absl::StatusOr<std::shared_ptr<registry::RegistryClient>> ImageEndpoints::Client() {
  if (!client_) {
    registry::RegistryClientOptions options;
    options.plain_http = flags_.plain_http;
    options.hosts_dir = flags_.hosts_dir;
    TIDE_ASSIGN_OR_RETURN(std::unique_ptr<registry::RegistryClient> c,
                          registry::RegistryClient::Create(options));
    client_ = std::move(c);
  }
  return client_;
}

absl::StatusOr<std::unique_ptr<ImageSource>> ImageEndpoints::OpenSource(const ImageRef& ref) {
  if (ref.transport == ImageRef::Transport::kOciLayout) {
    TIDE_ASSIGN_OR_RETURN(auto s, OciLayoutSource::Open(ref.layout_dir, ref.tag));
    return std::unique_ptr<ImageSource>(std::move(s));
  }
  TIDE_ASSIGN_OR_RETURN(auto client, Client());
  TIDE_ASSIGN_OR_RETURN(auto s, RegistrySource::Create(client, ref.reference));
  return std::unique_ptr<ImageSource>(std::move(s));
}

absl::StatusOr<std::unique_ptr<ImageDestination>> ImageEndpoints::OpenDestination(
    const ImageRef& ref, const std::string& default_tag) {
  if (ref.transport == ImageRef::Transport::kOciLayout) {
    std::string tag = !ref.tag.empty() ? ref.tag : (!default_tag.empty() ? default_tag : "latest");
    TIDE_ASSIGN_OR_RETURN(auto d, OciLayoutDestination::Open(ref.layout_dir, tag));
    return std::unique_ptr<ImageDestination>(std::move(d));
  }
  TIDE_ASSIGN_OR_RETURN(auto client, Client());
  TIDE_ASSIGN_OR_RETURN(auto d, RegistryDestination::Create(client, ref.reference));
  return std::unique_ptr<ImageDestination>(std::move(d));
}

}  // namespace tide::converter
