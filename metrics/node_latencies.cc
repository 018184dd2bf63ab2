#include "metrics/node_latencies.h"

namespace tide::metrics {

LatencyHistogram& FetchLatency() {
  static LatencyHistogram histogram;
  return histogram;
}

LatencyHistogram& FuseReadLatency() {
  static LatencyHistogram histogram;
  return histogram;
}

}  // namespace tide::metrics
