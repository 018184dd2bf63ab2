#include "pull/pull_plan.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "oci/image_config.h"
#include "oci/index.h"
#include "oci/media_types.h"
#include "pull/lazy_puller.h"

namespace tide::pull {
namespace {

FetchedDocument ToDocument(registry::FetchedManifest fetched, std::string_view fallback_media_type) {
  FetchedDocument doc;
  doc.descriptor.media_type =
      fetched.media_type.empty() ? std::string(fallback_media_type) : fetched.media_type;
  doc.descriptor.digest = fetched.digest;
  doc.descriptor.size = static_cast<int64_t>(fetched.bytes.size());
  doc.bytes = std::move(fetched.bytes);
  return doc;
}

// containerd's rule: entries with a platform must match; an entry without one is a candidate
// whose config decides.
absl::StatusOr<oci::Descriptor> PickManifest(const std::vector<oci::Descriptor>& manifests,
                                             const oci::Platform& platform, const std::string& context) {
  auto selected = registry::SelectPlatform(manifests, platform, context);
  if (selected.ok() || !absl::IsNotFound(selected.status())) return selected;
  for (const oci::Descriptor& d : manifests) {
    if (!d.platform && oci::IsManifest(d.media_type)) return d;
  }
  return selected.status();
}

absl::Status CheckConfigPlatform(const oci::ImageConfig& config, const oci::Platform& wanted,
                                 const std::string& image) {
  auto platform = config.GetPlatform();
  if (!platform.ok()) return platform.status();
  if (!platform->Matches(wanted)) {
    return absl::NotFoundError(absl::StrCat("image ", image, " is for platform ", platform->ToString(),
                                            ", not ", wanted.ToString(), " (use --platform to choose)"));
  }
  return absl::OkStatus();
}

}  // namespace

int64_t PullPlan::fetched_bytes() const {
  return (index ? index->descriptor.size : 0) + manifest.descriptor.size + config.descriptor.size;
}

int64_t PullPlan::image_size() const {
  int64_t total = manifest.descriptor.size + config.descriptor.size;
  for (const oci::Descriptor& layer : parsed_manifest.layers) total += layer.size;
  return total;
}

absl::StatusOr<PullPlan> PlanPull(registry::RegistryClient& registry, const registry::Reference& ref,
                                  const oci::Platform& platform) {
  PullPlan plan;
  plan.ref = ref;
  const std::string name = ref.String();
  TIDE_ASSIGN_OR_RETURN(registry::FetchedManifest top, registry.FetchManifest(ref));
  if (oci::IsIndex(top.media_type)) {
    std::string context = absl::StrCat("index ", name);
    TIDE_ASSIGN_OR_RETURN(oci::Index index, oci::Index::Parse(top.bytes, context));
    plan.index = ToDocument(std::move(top), oci::kOciIndex);
    plan.index_manifests = index.manifests;
    TIDE_ASSIGN_OR_RETURN(oci::Descriptor chosen, PickManifest(index.manifests, platform, context));
    TIDE_ASSIGN_OR_RETURN(registry::FetchedManifest m, registry.FetchManifest(ref, chosen.digest));
    plan.manifest = ToDocument(std::move(m), chosen.media_type);
  } else if (oci::IsManifest(top.media_type)) {
    plan.manifest = ToDocument(std::move(top), oci::kOciManifest);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        name, " is neither an image index nor an image manifest (media type '", top.media_type, "')"));
  }
  std::string manifest_context =
      absl::StrCat("manifest ", plan.manifest.descriptor.digest.str(), " of ", name);
  TIDE_ASSIGN_OR_RETURN(plan.parsed_manifest, oci::Manifest::Parse(plan.manifest.bytes, manifest_context));
  if (plan.parsed_manifest.media_type.empty())
    plan.parsed_manifest.media_type = plan.manifest.descriptor.media_type;
  if (!oci::IsConfig(plan.parsed_manifest.config.media_type)) {
    return absl::InvalidArgumentError(absl::StrCat(manifest_context,
                                                   " is not a container image (config type '",
                                                   plan.parsed_manifest.config.media_type, "')"));
  }

  const oci::Descriptor& config_desc = plan.parsed_manifest.config;
  TIDE_ASSIGN_OR_RETURN(plan.config.bytes,
                        registry.FetchBlobBytes(ref, config_desc.digest, config_desc.size));
  plan.config.descriptor = config_desc;
  std::string config_context = absl::StrCat("config ", config_desc.digest.str(), " of ", name);
  TIDE_ASSIGN_OR_RETURN(oci::ImageConfig config, oci::ImageConfig::Parse(plan.config.bytes, config_context));
  TIDE_RETURN_IF_ERROR(CheckConfigPlatform(config, platform, name));
  TIDE_ASSIGN_OR_RETURN(plan.diff_ids, config.DiffIds());
  if (plan.diff_ids.size() != plan.parsed_manifest.layers.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(manifest_context, " has ", plan.parsed_manifest.layers.size(),
                     " layers but its config lists ", plan.diff_ids.size(), " diff_ids"));
  }
  for (size_t i = 0; i < plan.parsed_manifest.layers.size(); ++i) {
    if (!oci::IsLayer(plan.parsed_manifest.layers[i].media_type)) {
      return absl::InvalidArgumentError(absl::StrCat(manifest_context, " layer ", i, " has media type '",
                                                     plan.parsed_manifest.layers[i].media_type,
                                                     "', which is not a layer"));
    }
  }
  plan.chain_ids = ChainIds(plan.diff_ids);
  return plan;
}

}  // namespace tide::pull
