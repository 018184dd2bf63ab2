#ifndef TIDE_SIDE_INDEX_SIDE_INDEX_FINDER_H_
#define TIDE_SIDE_INDEX_SIDE_INDEX_FINDER_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"
#include "oci/descriptor.h"
#include "registry/reference.h"
#include "registry/registry_client.h"

namespace tide::side_index {

// Finds the gzip side index of an image's layer in the image's own repository. Thread-safe; answers
// (also "there is none") are cached per image manifest, so an image costs one lookup, not one per
// layer. Network errors are not cached.
class SideIndexFinder {
 public:
  explicit SideIndexFinder(registry::RegistryClient& registry) : registry_(registry) {}

  // The index blob for `layer` of the image manifest `manifest`. With `pinned` set (tidectl pull
  // --index, or configuration) only that artifact manifest is used; otherwise the image's referrers
  // of kArtifactType, later ones winning for a layer two of them index. NotFound says why there is
  // none (no artifact, or the artifact skips the layer).
  absl::StatusOr<oci::Descriptor> Find(const registry::Reference& repo, const Digest& manifest,
                                       const Digest& layer, const Digest& pinned = Digest());
  // True when an earlier Find learned that `manifest` has no side index artifact at all.
  bool KnownAbsent(const Digest& manifest, const Digest& pinned = Digest());

 private:
  using LayerMap = absl::flat_hash_map<std::string, oci::Descriptor>;
  absl::StatusOr<std::shared_ptr<const LayerMap>> Lookup(const registry::Reference& repo,
                                                         const Digest& manifest, const Digest& pinned);
  absl::StatusOr<LayerMap> FetchArtifact(const registry::Reference& repo, const Digest& artifact,
                                         const Digest& manifest);

  registry::RegistryClient& registry_;
  absl::Mutex mu_;
  // "manifest pinned" -> the layers indexed, or the NotFound that says why none are.
  absl::flat_hash_map<std::string, absl::StatusOr<std::shared_ptr<const LayerMap>>> cache_
      ABSL_GUARDED_BY(mu_);
};

// Fetches an index blob the artifact lists: bounded in size, verified against its digest.
absl::StatusOr<std::string> FetchIndexBlob(registry::RegistryClient& registry,
                                           const registry::Reference& repo, const oci::Descriptor& blob);

}  // namespace tide::side_index

#endif  // TIDE_SIDE_INDEX_SIDE_INDEX_FINDER_H_
