#include "layer/manifest_layer.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tide::layer {

absl::StatusOr<ManifestLayer> FindManifestLayer(registry::RegistryClient& registry,
                                                const registry::Reference& repo, const Digest& manifest,
                                                const Digest& layer) {
  TIDE_ASSIGN_OR_RETURN(registry::FetchedManifest fetched, registry.FetchManifest(repo, manifest));
  ManifestLayer found;
  TIDE_ASSIGN_OR_RETURN(found.manifest,
                        oci::Manifest::Parse(fetched.bytes, absl::StrCat("manifest ", manifest.str())));
  for (found.position = 0; found.position < found.manifest.layers.size(); ++found.position) {
    if (found.manifest.layers[found.position].digest == layer) return found;
  }
  return absl::NotFoundError(absl::StrCat("manifest ", manifest.str(), " has no layer ", layer.str()));
}

}  // namespace tide::layer
