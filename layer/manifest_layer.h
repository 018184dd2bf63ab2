#ifndef TIDE_LAYER_MANIFEST_LAYER_H_
#define TIDE_LAYER_MANIFEST_LAYER_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "oci/manifest.h"
#include "registry/reference.h"
#include "registry/registry_client.h"

namespace tide::layer {

// An image manifest and the position of one of its layers in it.
struct ManifestLayer {
  oci::Manifest manifest;
  size_t position = 0;
  const oci::Descriptor& descriptor() const { return manifest.layers[position]; }
};

// Fetches manifest `manifest` of `repo` by digest (verified against it) and finds layer `layer` in
// it: what the image says about a layer when only its digests reached the snapshotter (CRI). NotFound
// when the manifest has no such layer.
absl::StatusOr<ManifestLayer> FindManifestLayer(registry::RegistryClient& registry,
                                                const registry::Reference& repo, const Digest& manifest,
                                                const Digest& layer);

}  // namespace tide::layer

#endif  // TIDE_LAYER_MANIFEST_LAYER_H_
