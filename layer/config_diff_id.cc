#include "layer/config_diff_id.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "layer/manifest_layer.h"
#include "oci/image_config.h"
#include "oci/manifest.h"

namespace tide::layer {

absl::StatusOr<Digest> DiffIdFromConfig(registry::RegistryClient& registry, const registry::Reference& repo,
                                        const Digest& manifest, const Digest& layer) {
  constexpr int64_t kMaxConfigSize = 8 << 20;
  TIDE_ASSIGN_OR_RETURN(ManifestLayer found, FindManifestLayer(registry, repo, manifest, layer));
  const oci::Manifest& parsed = found.manifest;
  if (parsed.config.size < 0 || parsed.config.size > kMaxConfigSize) {
    return absl::InvalidArgumentError(absl::StrCat("image config of ", parsed.config.size, " bytes"));
  }
  TIDE_ASSIGN_OR_RETURN(std::string config_bytes,
                        registry.FetchBlobBytes(repo, parsed.config.digest, parsed.config.size));
  TIDE_ASSIGN_OR_RETURN(oci::ImageConfig config, oci::ImageConfig::Parse(config_bytes));
  TIDE_ASSIGN_OR_RETURN(std::vector<Digest> diff_ids, config.DiffIds());
  if (diff_ids.size() != parsed.layers.size()) {
    return absl::InvalidArgumentError(absl::StrCat("image config names ", diff_ids.size(), " diff_ids for ",
                                                   parsed.layers.size(), " layers"));
  }
  return diff_ids[found.position];
}

}  // namespace tide::layer
