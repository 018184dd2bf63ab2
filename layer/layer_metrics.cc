#include "layer/layer_metrics.h"

#include <array>
#include <chrono>
#include <string>
#include <tuple>
#include <vector>

#include "metrics/node_latencies.h"
#include "registry/registry_metrics.h"

namespace tide::layer {
namespace {

constexpr const char* kKindNames[fetch::kFetchKinds] = {"on_demand", "startup", "background"};

double Load(const std::atomic<uint64_t>& v) { return static_cast<double>(v.load(std::memory_order_relaxed)); }

// One layer's figures, read while the manager holds its mounts in place.
struct LayerSample {
  metrics::Labels labels;
  std::array<double, fetch::kFetchKinds> bytes{}, requests{};
  double hits = 0, misses = 0, failures = 0, verify_failures = 0, read_errors = 0, yields = 0, hedges = 0;
  double read_ahead_chunks = 0, read_ahead_used = 0, read_ahead_refused = 0;
  double chunks_cached = 0, chunks = 0, prefetch_done = 0, poisoned = 0, mounted_seconds = 0;
  double cached_blob_bytes = 0, served_blob_bytes = 0;
};

LayerSample Sample(const LayerMount& mount) {
  LayerSample l;
  l.labels = {{"layer", mount.name()}};
  const fetch::FetcherStats& stats = mount.fetcher().stats();
  for (size_t k = 0; k < fetch::kFetchKinds; ++k) {
    l.bytes[k] = Load(stats.bytes_by_kind[k]);
    l.requests[k] = Load(stats.requests_by_kind[k]);
  }
  l.hits = Load(stats.cache_hits);
  l.misses = Load(stats.cache_misses);
  l.failures = Load(stats.failures);
  l.verify_failures = Load(stats.verify_failures);
  l.yields = Load(stats.yields);
  l.hedges = Load(stats.hedges);
  l.read_ahead_chunks = Load(stats.read_ahead_chunks);
  l.read_ahead_used = Load(stats.read_ahead_used);
  l.read_ahead_refused = Load(stats.read_ahead_refused);
  l.read_errors = static_cast<double>(mount.read_errors());
  l.chunks_cached = static_cast<double>(mount.fetcher().present_count());
  l.chunks = static_cast<double>(mount.fetcher().chunk_count());
  const fetch::ChunkFetcher::CachedBytes cached = mount.fetcher().cached_bytes();
  l.cached_blob_bytes = static_cast<double>(cached.cached);
  l.served_blob_bytes = static_cast<double>(cached.served);
  l.prefetch_done = std::string_view(mount.prefetch_state()) != "running" ? 1 : 0;
  l.poisoned = mount.poisoned() ? 1 : 0;
  l.mounted_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - mount.mounted_at()).count();
  return l;
}

// Every sample of a family is written together, as the exposition format requires.
void WriteLayers(const std::vector<LayerSample>& layers, metrics::TextWriter& out) {
  for (const auto& [family, help, member] :
       {std::tuple{"tide_layer_fetch_bytes_total", "Blob bytes fetched from the registry",
                   &LayerSample::bytes},
        std::tuple{"tide_layer_fetch_requests_total", "Range requests made to the registry",
                   &LayerSample::requests}}) {
    for (const LayerSample& l : layers) {
      for (size_t k = 0; k < fetch::kFetchKinds; ++k) {
        metrics::Labels by_kind = l.labels;
        by_kind.emplace_back("kind", kKindNames[k]);
        out.Counter(family, help, by_kind, (l.*member)[k]);
      }
    }
  }
  struct Scalar {
    const char* name;
    const char* help;
    double LayerSample::*value;
    bool counter;
  };
  static constexpr Scalar kScalars[] = {
      {"tide_layer_read_cache_hits_total", "Reads whose chunks were all cached already", &LayerSample::hits,
       true},
      {"tide_layer_read_cache_misses_total", "Reads that had to fetch a chunk", &LayerSample::misses, true},
      {"tide_layer_fetch_failures_total", "Fetch attempts that failed (retried within read_timeout)",
       &LayerSample::failures, true},
      {"tide_layer_verify_failures_total", "Chunks that did not decode to their digest",
       &LayerSample::verify_failures, true},
      {"tide_layer_read_errors_total", "FUSE reads answered with EIO", &LayerSample::read_errors, true},
      {"tide_layer_prefetch_yields_total", "Background requests cut short for a container read",
       &LayerSample::yields, true},
      {"tide_layer_hedges_total",
       "Requests a waiting read made for chunks a stalled or slower request carried", &LayerSample::hedges,
       true},
      {"tide_layer_read_ahead_chunks_total", "Chunks fetched as read-ahead of a container read",
       &LayerSample::read_ahead_chunks, true},
      {"tide_layer_read_ahead_used_total", "Read-ahead chunks a container read then used",
       &LayerSample::read_ahead_used, true},
      {"tide_layer_read_ahead_refused_total", "Read-ahead requests dropped because every worker was busy",
       &LayerSample::read_ahead_refused, true},
      {"tide_layer_chunks_cached", "Chunks of the layer in the cache", &LayerSample::chunks_cached, false},
      {"tide_layer_chunks", "Chunks of the layer", &LayerSample::chunks, false},
      {"tide_layer_cached_blob_bytes", "Blob bytes of the layer's chunks in the cache",
       &LayerSample::cached_blob_bytes, false},
      {"tide_layer_served_blob_bytes",
       "Blob bytes of the cached chunks a container's read was answered from (the rest came by read-ahead, "
       "walks or prefetch and is not read yet)",
       &LayerSample::served_blob_bytes, false},
      {"tide_layer_prefetch_done", "1 once the layer's prefetch plan has run (1 with no plan)",
       &LayerSample::prefetch_done, false},
      {"tide_layer_poisoned", "1 if the whole layer failed verification against its diff_id",
       &LayerSample::poisoned, false},
      {"tide_layer_mounted_seconds", "Seconds since the layer was mounted", &LayerSample::mounted_seconds,
       false},
  };
  for (const Scalar& s : kScalars) {
    for (const LayerSample& l : layers) {
      if (s.counter) {
        out.Counter(s.name, s.help, l.labels, l.*(s.value));
      } else {
        out.Gauge(s.name, s.help, l.labels, l.*(s.value));
      }
    }
  }
}

}  // namespace

void WriteLayerMetrics(LayerMountManager& manager, metrics::TextWriter& out) {
  std::vector<LayerSample> layers;
  manager.ForEachMount([&](const LayerMount& mount) { layers.push_back(Sample(mount)); });
  WriteLayers(layers, out);
  out.Gauge("tide_layer_mounts", "Layers mounted lazily through FUSE", {},
            static_cast<double>(layers.size()));
  cache::ChunkCache& cache = manager.cache();
  out.Gauge("tide_cache_bytes", "Bytes of verified chunks in the node's cache", {},
            static_cast<double>(cache.used_bytes()));
  out.Gauge("tide_cache_max_bytes", "The cache's upper bound (cache_max_bytes)", {},
            static_cast<double>(cache.max_bytes()));
  out.Counter("tide_cache_evictions_total", "Chunks evicted from the cache", {},
              static_cast<double>(cache.evictions()));
  out.Counter("tide_cache_corrupt_chunks_total", "Cached chunks found corrupt on disk, removed and refetched",
              {}, static_cast<double>(cache.corruptions()));
  out.Counter("tide_cache_disk_full_total",
              "Writes that found the cache's disk full and evicted to make room", {},
              static_cast<double>(cache.disk_full_events()));
  out.Histogram("tide_fetch_duration_seconds", "Range requests to the registry, request to last byte", {},
                metrics::FetchLatency().Read());
  out.Histogram("tide_fuse_read_duration_seconds", "FUSE read requests, arrival to answer", {},
                metrics::FuseReadLatency().Read());
  registry::RegistryMetrics& reg = registry::GlobalRegistryMetrics();
  for (size_t c = 0; c < registry::kRegistryErrorClasses; ++c) {
    out.Counter(
        "tide_registry_errors_total", "Registry attempts that failed, by class",
        {{"class",
          std::string(registry::RegistryErrorClassName(static_cast<registry::RegistryErrorClass>(c)))}},
        Load(reg.errors[c]));
  }
  out.Counter("tide_registry_retries_total", "Registry attempts retried", {}, Load(reg.retries));
}

}  // namespace tide::layer
