#include "warm/warm_plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "fetch/registry_blob_source.h"
#include "oci/manifest.h"

namespace tide::warm {
namespace {

std::vector<uint32_t> ChunksToWarm(const LayerWarm& layer, bool all, const LearnedStartupFn& learned) {
  const format::LayerIndex& index = *layer.index;
  const auto count = static_cast<uint32_t>(index.chunks().size());
  std::vector<uint32_t> chunks;
  if (all) {
    chunks.resize(count);
    for (uint32_t i = 0; i < count; ++i) chunks[i] = i;
    return chunks;
  }
  std::span<const uint32_t> startup = index.startup_chunks();
  layer::LearnedStartup kept;
  if (startup.empty() && learned) {
    kept = learned(layer.digest, index);
    startup = kept.chunks;
  }
  for (uint32_t i : startup) {
    if (i < count) chunks.push_back(i);  // a learned set comes from a file: bound it here too
  }
  std::sort(chunks.begin(), chunks.end());
  chunks.erase(std::unique(chunks.begin(), chunks.end()), chunks.end());
  return chunks;
}

absl::Status PlanLayer(layer::LayerMountManager& manager, const registry::Reference& ref,
                       const oci::Descriptor& descriptor, bool all, const LearnedStartupFn& learned,
                       LayerWarm* layer) {
  layer->digest = descriptor.digest;
  if (descriptor.size <= 0) return absl::InvalidArgumentError("layer descriptor has no size");
  auto where =
      layer::IndexLocationFromAnnotations(descriptor.annotations, static_cast<uint64_t>(descriptor.size));
  if (absl::IsNotFound(where.status())) {
    layer->path = "not a tide layer";
    return absl::OkStatus();
  }
  if (!where.ok()) return where.status();
  layer->where = *where;
  TIDE_ASSIGN_OR_RETURN(std::unique_ptr<registry::BlobRangeReader> reader,
                        manager.registry().OpenBlob(ref, descriptor.digest, descriptor.size));
  layer->source = std::make_shared<fetch::RegistryBlobSource>(std::move(reader));
  TIDE_ASSIGN_OR_RETURN(layer->index, layer::LoadLayerIndex(*layer->source, layer->where, &manager.cache(),
                                                            manager.options().index_limits));
  layer->chunks = ChunksToWarm(*layer, all, learned);
  layer->path = layer->chunks.empty() && !all ? "no startup set" : "tide";
  for (uint32_t i : layer->chunks) {
    layer->bytes += layer->index->chunk(i).uncompressed_size;
    layer->blob_bytes += layer->index->chunk(i).compressed_size;
  }
  return absl::OkStatus();
}

}  // namespace

uint64_t WarmPlan::chunk_count() const {
  uint64_t n = 0;
  for (const LayerWarm& l : layers) n += l.chunks.size();
  return n;
}

uint64_t WarmPlan::bytes() const {
  uint64_t n = 0;
  for (const LayerWarm& l : layers) n += l.bytes;
  return n;
}

absl::StatusOr<WarmPlan> PlanWarm(layer::LayerMountManager& manager, const WarmRequest& request,
                                  const LearnedStartupFn& learned) {
  WarmPlan plan;
  plan.all = request.all;
  TIDE_ASSIGN_OR_RETURN(plan.reference, registry::Reference::Parse(request.reference));
  registry::RegistryClient& registry = manager.registry();
  TIDE_ASSIGN_OR_RETURN(oci::Descriptor target,
                        registry.ResolvePlatformManifest(plan.reference, request.platform));
  TIDE_ASSIGN_OR_RETURN(registry::FetchedManifest fetched,
                        registry.FetchManifest(plan.reference, target.digest));
  plan.manifest = fetched.digest;
  TIDE_ASSIGN_OR_RETURN(oci::Manifest manifest,
                        oci::Manifest::Parse(fetched.bytes, absl::StrCat("manifest ", fetched.digest.str())));
  if (manifest.layers.size() > kMaxWarmLayers) {
    return absl::InvalidArgumentError(absl::StrCat("image ", request.reference, " lists ",
                                                   manifest.layers.size(), " layers, over the ",
                                                   kMaxWarmLayers, " limit"));
  }
  for (const oci::Descriptor& descriptor : manifest.layers) {
    LayerWarm layer;
    absl::Status planned = PlanLayer(manager, plan.reference, descriptor, request.all, learned, &layer);
    if (!planned.ok()) {
      return absl::Status(planned.code(), absl::StrCat("image ", request.reference, " layer ",
                                                       descriptor.digest.str(), ": ", planned.message()));
    }
    plan.layers.push_back(std::move(layer));
  }
  return plan;
}

}  // namespace tide::warm
