#ifndef TIDE_METRICS_NODE_LATENCIES_H_
#define TIDE_METRICS_NODE_LATENCIES_H_

#include "metrics/latency_histogram.h"

namespace tide::metrics {

// The process-wide latency histograms, observed where the work happens and read at scrape time.
// Range requests to the registry, from the request to its last byte (fetch/chunk_fetcher.cc).
LatencyHistogram& FetchLatency();
// FUSE read requests, from arrival to answer (fuse/layer_fs.cc).
LatencyHistogram& FuseReadLatency();

}  // namespace tide::metrics

#endif  // TIDE_METRICS_NODE_LATENCIES_H_
