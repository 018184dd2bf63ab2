#ifndef TIDE_PULL_PULL_PLAN_H_
#define TIDE_PULL_PULL_PLAN_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "oci/descriptor.h"
#include "oci/manifest.h"
#include "oci/platform.h"
#include "registry/reference.h"
#include "registry/registry_client.h"

namespace tide::pull {

// A fetched, verified document with the descriptor that names it.
struct FetchedDocument {
  oci::Descriptor descriptor;
  std::string bytes;
};

// Everything the registry has to say about an image before anything goes into containerd: the
// index (when the reference names one), the platform manifest, the config and the layer chain.
struct PullPlan {
  registry::Reference ref;
  std::optional<FetchedDocument> index;
  std::vector<oci::Descriptor> index_manifests;  // the index's entries, for its GC labels
  FetchedDocument manifest;
  oci::Manifest parsed_manifest;
  FetchedDocument config;
  std::vector<Digest> diff_ids;
  std::vector<Digest> chain_ids;

  const oci::Descriptor& target() const { return index ? index->descriptor : manifest.descriptor; }
  int64_t fetched_bytes() const;  // documents fetched so far
  int64_t image_size() const;     // manifest + config + layers
};

// Resolves ref and fetches the documents; errors name the reference and say what is wrong
// (unknown tag, refused credentials, no manifest for platform, layers not matching diff_ids).
absl::StatusOr<PullPlan> PlanPull(registry::RegistryClient& registry, const registry::Reference& ref,
                                  const oci::Platform& platform);

}  // namespace tide::pull

#endif  // TIDE_PULL_PULL_PLAN_H_
