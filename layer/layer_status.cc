#include "layer/layer_status.h"

#include <chrono>
#include <map>
#include <string>

namespace tide::layer {
namespace {

nlohmann::json MountStatus(const LayerMount& mount) {
  const fetch::ChunkFetcher& fetcher = mount.fetcher();
  uint64_t bytes = 0, cached = 0;
  size_t chunks_cached = 0;
  for (uint32_t i = 0; i < fetcher.chunk_count(); ++i) {
    bytes += fetcher.chunk(i).raw_length;
    if (fetcher.present(i)) {
      cached += fetcher.chunk(i).raw_length;
      ++chunks_cached;
    }
  }
  return {{"layer", mount.name()},
          {"mountpoint", mount.mountpoint().string()},
          {"bytes_cached", cached},
          {"bytes", bytes},
          {"chunks_cached", chunks_cached},
          {"chunks", fetcher.chunk_count()},
          {"prefetch", mount.prefetch_state()},
          {"mounted_seconds",
           std::chrono::duration<double>(std::chrono::steady_clock::now() - mount.mounted_at()).count()},
          {"read_errors", mount.read_errors()},
          {"poisoned", mount.poisoned()}};
}

}  // namespace

nlohmann::json LayerStatus(LayerMountManager& manager) {
  // A layer's name is "host/repository@sha256:..."; its image, as far as a mount knows, is the
  // repository it is fetched from.
  std::map<std::string, nlohmann::json> by_image;
  manager.ForEachMount([&](const LayerMount& mount) {
    const std::string& name = mount.name();
    std::string image = name.substr(0, name.rfind('@'));
    by_image[image].push_back(MountStatus(mount));
  });
  nlohmann::json images = nlohmann::json::array();
  for (auto& [image, layers] : by_image) images.push_back({{"image", image}, {"layers", std::move(layers)}});
  return {{"images", std::move(images)}};
}

}  // namespace tide::layer
