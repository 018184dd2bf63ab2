#ifndef TIDE_LAYER_LAYER_METRICS_H_
#define TIDE_LAYER_LAYER_METRICS_H_

#include "layer/layer_mount_manager.h"
#include "metrics/text_writer.h"

namespace tide::layer {

// Writes what the mounted layers of a node are doing (docs/metrics.md): per layer, bytes and
// requests fetched by kind, prefetch progress, reads served from the cache, verification failures and
// read errors; node-wide, the chunk cache, fetch and FUSE read latencies, and registry errors.
void WriteLayerMetrics(LayerMountManager& manager, metrics::TextWriter& out);

}  // namespace tide::layer

#endif  // TIDE_LAYER_LAYER_METRICS_H_
