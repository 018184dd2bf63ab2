#ifndef TIDE_SIDE_INDEX_SIDE_INDEX_DESTINATION_H_
#define TIDE_SIDE_INDEX_SIDE_INDEX_DESTINATION_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/digest.h"
#include "oci/descriptor.h"
#include "oci/oci_layout.h"
#include "registry/registry_client.h"

namespace tide::side_index {

// Where `tidectl index` publishes an image's side index artifact: beside the image in a registry
// repository (a referrer, found by tide-snapshotter), or in an OCI layout (a referrer listed in
// index.json, for pipelines that build and index before they push).
class SideIndexDestination {
 public:
  virtual ~SideIndexDestination() = default;
  virtual std::string Describe() const = 0;
  // Fails unless the destination holds the image manifest `subject`: an artifact published beside
  // anything else would never be found, or would describe another image.
  virtual absl::Status CheckHoldsSubject(const oci::Descriptor& subject) = 0;
  virtual absl::Status PutBlob(const Digest& digest, std::string_view bytes) = 0;
  // Publishes the artifact manifest as a referrer of `subject`. Returns how it can be found.
  virtual absl::StatusOr<std::string> PutReferrer(const oci::Descriptor& subject,
                                                  const oci::Descriptor& artifact,
                                                  std::string_view bytes) = 0;
};

std::unique_ptr<SideIndexDestination> RegistryIndexDestination(
    std::shared_ptr<registry::RegistryClient> client, registry::Reference repo);
std::unique_ptr<SideIndexDestination> LayoutIndexDestination(oci::OciLayout layout);

}  // namespace tide::side_index

#endif  // TIDE_SIDE_INDEX_SIDE_INDEX_DESTINATION_H_
