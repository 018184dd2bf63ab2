#ifndef TIDE_METRICS_LATENCY_HISTOGRAM_H_
#define TIDE_METRICS_LATENCY_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace tide::metrics {

// Latencies counted into fixed buckets with relaxed atomics: Observe neither locks nor allocates, so
// it can sit on the FUSE read and chunk fetch paths.
class LatencyHistogram {
 public:
  // Upper bounds in seconds, as Prometheus' "le" labels; +Inf is implied.
  static constexpr std::array<double, 16> kBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  struct Snapshot {
    std::array<uint64_t, kBounds.size()> cumulative{};  // observations <= kBounds[i]
    uint64_t count = 0;
    double sum_seconds = 0;
  };

  void Observe(std::chrono::nanoseconds latency);
  Snapshot Read() const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};  // last: above every bound
  std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace tide::metrics

#endif  // TIDE_METRICS_LATENCY_HISTOGRAM_H_
