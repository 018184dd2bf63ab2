// NodeCache::List: what the node's chunk cache holds, by pinned image and by mounted layer, from the
// cache and the mounts alone (no registry request).
#include <limits>
#include <map>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "common/log.h"
#include "warm/node_cache.h"
#include "warm/pin_record.h"

namespace tide::warm {
namespace {

using tide::cache::v1::CachedImage;
using tide::cache::v1::CachedLayer;

void CountLayer(cache::ChunkCache& cache, const format::LayerIndex& index,
                const absl::flat_hash_set<Sha256Bytes, cache::Sha256Hash>* pinned, CachedLayer* out) {
  for (const format::ChunkInfo& c : index.chunks()) {
    const bool cached = cache.Contains(c.sha256);
    out->set_bytes(out->bytes() + c.uncompressed_size);
    if (cached) out->set_bytes_cached(out->bytes_cached() + c.uncompressed_size);
    if (pinned != nullptr && pinned->contains(c.sha256)) {
      out->set_pinned_bytes(out->pinned_bytes() + c.uncompressed_size);
      if (cached) out->set_pinned_bytes_cached(out->pinned_bytes_cached() + c.uncompressed_size);
    }
  }
}

}  // namespace

tide::cache::v1::ListResponse NodeCache::List() {
  cache::ChunkCache& cache = manager_.cache();
  tide::cache::v1::ListResponse list;
  list.set_used_bytes(cache.used_bytes());
  list.set_max_bytes(cache.max_bytes() == std::numeric_limits<uint64_t>::max() ? 0 : cache.max_bytes());
  list.set_pinned_bytes(cache.PinnedBytes());
  list.set_chunks(cache.chunk_count());
  std::set<std::string> pinned_layers;
  for (const cache::PinFile& pin : cache.Pins()) {
    CachedImage* image = list.add_images();
    image->set_reference(pin.owner);
    image->set_pinned(true);
    absl::StatusOr<PinRecord> record = DecodePinRecord(pin.meta);
    if (!record.ok()) {
      log::Warn("pin record unreadable", {{"image", pin.owner}, {"error", record.status().message()}});
      continue;
    }
    image->set_manifest(record->manifest.str());
    image->set_mode(record->all ? "all" : "startup");
    const absl::flat_hash_set<Sha256Bytes, cache::Sha256Hash> mine(pin.chunks.begin(), pin.chunks.end());
    for (const PinnedLayer& l : record->layers) {
      CachedLayer* layer = image->add_layers();
      layer->set_digest(l.digest.str());
      pinned_layers.insert(l.digest.str());
      auto index = layer::LoadCachedLayerIndex(l.index, cache, manager_.options().index_limits);
      if (index.ok()) CountLayer(cache, **index, &mine, layer);
    }
  }
  // Layers mounted for containers that no pin covers, by the repository they are read from.
  std::map<std::string, CachedImage> mounted;
  manager_.ForEachMount([&](const layer::LayerMount& mount) {
    const std::string& name = mount.name();
    const size_t at = name.rfind('@');
    const std::string digest = at == std::string::npos ? name : name.substr(at + 1);
    if (pinned_layers.contains(digest)) return;
    CachedImage& image = mounted[name.substr(0, at)];
    image.set_reference(name.substr(0, at));
    image.set_mode("mounted");
    CachedLayer* layer = image.add_layers();
    layer->set_digest(digest);
    CountLayer(cache, mount.index(), nullptr, layer);
  });
  for (auto& [name, image] : mounted) *list.add_images() = std::move(image);
  return list;
}

}  // namespace tide::warm
