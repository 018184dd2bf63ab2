#ifndef TIDE_METRICS_TEXT_WRITER_H_
#define TIDE_METRICS_TEXT_WRITER_H_

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/latency_histogram.h"

namespace tide::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Writes the Prometheus text exposition format (version 0.0.4). Samples of one metric family must be
// written together; the first one writes the family's HELP and TYPE lines.
class TextWriter {
 public:
  void Counter(std::string_view name, std::string_view help, const Labels& labels, double value);
  void Gauge(std::string_view name, std::string_view help, const Labels& labels, double value);
  void Histogram(std::string_view name, std::string_view help, const Labels& labels,
                 const LatencyHistogram::Snapshot& snapshot);
  const std::string& text() const { return out_; }

 private:
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, const Labels& labels, double value);
  std::string out_;
  std::set<std::string, std::less<>> families_;
};

// A label value with backslash, double quote and newline escaped, as the format requires.
std::string EscapeLabelValue(std::string_view value);

}  // namespace tide::metrics

#endif  // TIDE_METRICS_TEXT_WRITER_H_
