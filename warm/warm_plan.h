#ifndef TIDE_WARM_WARM_PLAN_H_
#define TIDE_WARM_WARM_PLAN_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "fetch/blob_source.h"
#include "format/layer_index.h"
#include "layer/layer_mount.h"
#include "layer/layer_mount_manager.h"
#include "oci/platform.h"
#include "registry/reference.h"

namespace tide::warm {

struct WarmRequest {
  std::string reference;
  bool all = false;  // the whole image, not only its startup set
  oci::Platform platform = oci::Platform::Host();
};

// A learned startup set for a layer whose index has none (the daemon's profiles), or empty.
using LearnedStartupFn = std::function<layer::LearnedStartup(const Digest& layer, const format::LayerIndex&)>;

// One layer of the image and what warming takes of it.
struct LayerWarm {
  Digest digest;
  // "tide" when warmed; otherwise why not ("not a tide layer", "no startup set").
  std::string path;
  layer::IndexLocation where;  // tide layers only
  std::shared_ptr<const format::LayerIndex> index;
  std::shared_ptr<fetch::BlobSource> source;
  std::vector<uint32_t> chunks;  // ascending, distinct
  uint64_t bytes = 0;            // their uncompressed bytes
  uint64_t blob_bytes = 0;       // their compressed bytes
};

struct WarmPlan {
  registry::Reference reference;
  Digest manifest;
  bool all = false;
  std::vector<LayerWarm> layers;
  uint64_t chunk_count() const;
  uint64_t bytes() const;
};

// An image manifest may list this many layers; more is refused before anything is fetched.
inline constexpr size_t kMaxWarmLayers = 1024;

// Resolves the image, fetches and verifies each tide layer's index (through the cache, so it is
// kept), and picks the chunks to warm: every chunk with `all`, else the index's startup set, else a
// learned one. Errors name the image and the layer.
absl::StatusOr<WarmPlan> PlanWarm(layer::LayerMountManager& manager, const WarmRequest& request,
                                  const LearnedStartupFn& learned);

}  // namespace tide::warm

#endif  // TIDE_WARM_WARM_PLAN_H_
