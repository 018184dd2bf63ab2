#ifndef TIDE_LAYER_CONFIG_DIFF_ID_H_
#define TIDE_LAYER_CONFIG_DIFF_ID_H_

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "registry/reference.h"
#include "registry/registry_client.h"

namespace tide::layer {

// The diff_id an image's config gives layer `layer` of manifest `manifest` in `repo`: what containerd
// computed that layer's chainID from. Manifest and config are fetched by digest and verified; the
// config is at most 8 MiB. NotFound when the manifest has no such layer.
absl::StatusOr<Digest> DiffIdFromConfig(registry::RegistryClient& registry, const registry::Reference& repo,
                                        const Digest& manifest, const Digest& layer);

}  // namespace tide::layer

#endif  // TIDE_LAYER_CONFIG_DIFF_ID_H_
