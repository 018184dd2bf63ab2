#include "layer/image_manifests.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "oci/image_config.h"

namespace tide::layer {

absl::StatusOr<std::shared_ptr<ImageManifests::Image>> ImageManifests::Find(const registry::Reference& repo,
                                                                            const Digest& manifest) {
  const std::string key = absl::StrCat(repo.registry(), "/", repo.repository(), "@", manifest.str());
  {
    absl::MutexLock lock(&mu_);
    if (auto it = images_.find(key); it != images_.end()) return it->second;
  }
  // Fetched outside the lock: another image's layers need not wait for this one's registry.
  TIDE_ASSIGN_OR_RETURN(registry::FetchedManifest fetched, registry_.FetchManifest(repo, manifest));
  auto image = std::make_shared<Image>();
  TIDE_ASSIGN_OR_RETURN(image->manifest,
                        oci::Manifest::Parse(fetched.bytes, absl::StrCat("manifest ", manifest.str())));
  absl::MutexLock lock(&mu_);
  if (images_.size() >= max_images_) images_.clear();
  return images_.try_emplace(key, std::move(image)).first->second;
}

absl::StatusOr<size_t> ImageManifests::Position(const Image& image, const Digest& manifest,
                                                const Digest& layer) {
  for (size_t i = 0; i < image.manifest.layers.size(); ++i) {
    if (image.manifest.layers[i].digest == layer) return i;
  }
  return absl::NotFoundError(absl::StrCat("manifest ", manifest.str(), " has no layer ", layer.str()));
}

absl::StatusOr<oci::Descriptor> ImageManifests::Layer(const registry::Reference& repo, const Digest& manifest,
                                                      const Digest& layer) {
  TIDE_ASSIGN_OR_RETURN(std::shared_ptr<Image> image, Find(repo, manifest));
  TIDE_ASSIGN_OR_RETURN(size_t position, Position(*image, manifest, layer));
  return image->manifest.layers[position];
}

absl::StatusOr<Digest> ImageManifests::DiffId(const registry::Reference& repo, const Digest& manifest,
                                              const Digest& layer) {
  constexpr int64_t kMaxConfigSize = 8 << 20;
  TIDE_ASSIGN_OR_RETURN(std::shared_ptr<Image> image, Find(repo, manifest));
  TIDE_ASSIGN_OR_RETURN(size_t position, Position(*image, manifest, layer));
  {
    absl::MutexLock lock(&mu_);
    if (image->diff_ids) return (*image->diff_ids)[position];
  }
  const oci::Manifest& parsed = image->manifest;
  if (parsed.config.size < 0 || parsed.config.size > kMaxConfigSize) {
    return absl::InvalidArgumentError(absl::StrCat("image config of ", parsed.config.size, " bytes"));
  }
  TIDE_ASSIGN_OR_RETURN(std::string config_bytes,
                        registry_.FetchBlobBytes(repo, parsed.config.digest, parsed.config.size));
  TIDE_ASSIGN_OR_RETURN(oci::ImageConfig config, oci::ImageConfig::Parse(config_bytes));
  TIDE_ASSIGN_OR_RETURN(std::vector<Digest> diff_ids, config.DiffIds());
  if (diff_ids.size() != parsed.layers.size()) {
    return absl::InvalidArgumentError(absl::StrCat("image config names ", diff_ids.size(), " diff_ids for ",
                                                   parsed.layers.size(), " layers"));
  }
  const Digest diff_id = diff_ids[position];
  absl::MutexLock lock(&mu_);
  if (!image->diff_ids) image->diff_ids = std::move(diff_ids);
  return diff_id;
}

}  // namespace tide::layer
