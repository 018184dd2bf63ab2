#ifndef TIDE_LAYER_IMAGE_MANIFESTS_H_
#define TIDE_LAYER_IMAGE_MANIFESTS_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"
#include "oci/manifest.h"
#include "registry/reference.h"
#include "registry/registry_client.h"

namespace tide::layer {

// What an image's manifest and config say about its layers, for what CRI labels do not carry (only
// a layer's digests and its image's manifest digest reach the snapshotter). containerd prepares an
// image's layers one after the other, and each would fetch the same manifest and config again: here
// each is fetched once per image, by digest and verified, so an entry never goes stale. Entries are
// per repository (a manifest read through one repository is not handed to a request for another);
// failures are not kept. At most `max_images` images are kept; thread-safe.
class ImageManifests {
 public:
  explicit ImageManifests(registry::RegistryClient& registry, size_t max_images = 64)
      : registry_(registry), max_images_(max_images) {}

  // Layer `layer` of manifest `manifest` in `repo`. NotFound when the manifest has no such layer.
  absl::StatusOr<oci::Descriptor> Layer(const registry::Reference& repo, const Digest& manifest,
                                        const Digest& layer);
  // The diff_id the image's config gives that layer: what containerd computed its chainID from. The
  // config is at most 8 MiB.
  absl::StatusOr<Digest> DiffId(const registry::Reference& repo, const Digest& manifest, const Digest& layer);

 private:
  struct Image {
    oci::Manifest manifest;
    std::optional<std::vector<Digest>> diff_ids;  // fetched with the first DiffId
  };

  absl::StatusOr<std::shared_ptr<Image>> Find(const registry::Reference& repo, const Digest& manifest);
  static absl::StatusOr<size_t> Position(const Image& image, const Digest& manifest, const Digest& layer);

  registry::RegistryClient& registry_;
  const size_t max_images_;
  absl::Mutex mu_;
  // "registry/repository@manifest digest"
  absl::flat_hash_map<std::string, std::shared_ptr<Image>> images_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tide::layer

#endif  // TIDE_LAYER_IMAGE_MANIFESTS_H_
