#include "side_index/side_index_finder.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "format/index_limits.h"
#include "side_index/side_index_artifact.h"

namespace tide::side_index {
namespace {

// Re-runs of `tidectl index` add artifacts; only the newest few are read.
constexpr size_t kMaxArtifacts = 16;
constexpr size_t kMaxCachedImages = 4096;

std::string CacheKey(const Digest& manifest, const Digest& pinned) {
  return absl::StrCat(manifest.str(), " ", pinned.empty() ? std::string("-") : pinned.str());
}

}  // namespace

absl::StatusOr<SideIndexFinder::LayerMap> SideIndexFinder::FetchArtifact(const registry::Reference& repo,
                                                                         const Digest& artifact,
                                                                         const Digest& manifest) {
  TIDE_ASSIGN_OR_RETURN(registry::FetchedManifest m, registry_.FetchManifest(repo, artifact));
  absl::StatusOr<LayerMap> layers = ParseArtifactManifest(m.bytes, manifest);
  if (!layers.ok()) {
    return absl::Status(layers.status().code(),
                        absl::StrCat("artifact ", artifact.str(), ": ", layers.status().message()));
  }
  return layers;
}

absl::StatusOr<std::shared_ptr<const SideIndexFinder::LayerMap>> SideIndexFinder::Lookup(
    const registry::Reference& repo, const Digest& manifest, const Digest& pinned) {
  if (!pinned.empty()) {
    TIDE_ASSIGN_OR_RETURN(LayerMap layers, FetchArtifact(repo, pinned, manifest));
    return std::make_shared<const LayerMap>(std::move(layers));
  }
  TIDE_ASSIGN_OR_RETURN(registry::ReferrersList referrers, registry_.ListReferrers(repo, manifest));
  std::vector<Digest> artifacts;
  for (const oci::Descriptor& d : referrers.manifests)
    if (d.artifact_type == kArtifactType) artifacts.push_back(d.digest);
  if (artifacts.empty()) {
    return absl::NotFoundError(
        absl::StrCat("image ", manifest.str(), " has no gzip side index (",
                     referrers.from_fallback_tag ? "referrers tag " : "referrers API",
                     referrers.from_fallback_tag ? registry::ReferrersTag(manifest) : "", " lists no ",
                     kArtifactType, ")"));
  }
  if (artifacts.size() > kMaxArtifacts) artifacts.erase(artifacts.begin(), artifacts.end() - kMaxArtifacts);
  LayerMap merged;
  for (const Digest& artifact : artifacts) {
    TIDE_ASSIGN_OR_RETURN(LayerMap layers, FetchArtifact(repo, artifact, manifest));
    for (auto& [layer, blob] : layers) merged[layer] = std::move(blob);
  }
  return std::make_shared<const LayerMap>(std::move(merged));
}

absl::StatusOr<oci::Descriptor> SideIndexFinder::Find(const registry::Reference& repo, const Digest& manifest,
                                                      const Digest& layer, const Digest& pinned) {
  const std::string key = CacheKey(manifest, pinned);
  std::optional<absl::StatusOr<std::shared_ptr<const LayerMap>>> cached;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = cache_.find(key); it != cache_.end()) cached = it->second;
  }
  absl::StatusOr<std::shared_ptr<const LayerMap>> layers = cached ? *cached : Lookup(repo, manifest, pinned);
  if (!cached) {
    // An image without an index is remembered; a registry that failed is asked again next time.
    if (layers.ok() || absl::IsNotFound(layers.status()) || absl::IsInvalidArgument(layers.status()) ||
        absl::IsFailedPrecondition(layers.status())) {
      absl::MutexLock lock(&mu_);
      if (cache_.size() >= kMaxCachedImages) cache_.clear();
      cache_.insert_or_assign(key, layers);
    }
  }
  if (!layers.ok()) return layers.status();
  auto it = (*layers)->find(layer.str());
  if (it == (*layers)->end()) {
    return absl::NotFoundError(
        absl::StrCat("the gzip side index of image ", manifest.str(), " does not cover layer ", layer.str()));
  }
  return it->second;
}

bool SideIndexFinder::KnownAbsent(const Digest& manifest, const Digest& pinned) {
  absl::MutexLock lock(&mu_);
  auto it = cache_.find(CacheKey(manifest, pinned));
  return it != cache_.end() && !it->second.ok();
}

absl::StatusOr<std::string> FetchIndexBlob(registry::RegistryClient& registry,
                                           const registry::Reference& repo, const oci::Descriptor& blob) {
  TIDE_RETURN_IF_ERROR(format::CheckIndexFrameSize(absl::StrCat("gzip side index blob ", blob.digest.str()),
                                                   static_cast<uint64_t>(std::max<int64_t>(0, blob.size))));
  return registry.FetchBlobBytes(repo, blob.digest, blob.size);
}

}  // namespace tide::side_index
