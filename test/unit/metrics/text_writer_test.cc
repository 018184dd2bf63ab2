#include "metrics/text_writer.h"

#include <catch2/catch.hpp>
#include <chrono>

namespace tide::metrics {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST_CASE("Text format: one HELP and TYPE per family, labels escaped") {
  TextWriter out;
  out.Counter("tide_x_total", "Things", {{"layer", "a\"b\\c\nd"}}, 3);
  out.Counter("tide_x_total", "Things", {{"layer", "e"}}, 4.5);
  out.Gauge("tide_y", "Level", {}, 0.25);
  CHECK(out.text() ==
        "# HELP tide_x_total Things\n# TYPE tide_x_total counter\n"
        "tide_x_total{layer=\"a\\\"b\\\\c\\nd\"} 3\n"
        "tide_x_total{layer=\"e\"} 4.5\n"
        "# HELP tide_y Level\n# TYPE tide_y gauge\ntide_y 0.25\n");
}

TEST_CASE("Histogram: cumulative buckets, +Inf equals the count, sum in seconds") {
  LatencyHistogram h;
  h.Observe(microseconds(50));          // <= 0.0001
  h.Observe(milliseconds(3));           // <= 0.005
  h.Observe(milliseconds(3));           // <= 0.005
  h.Observe(std::chrono::seconds(20));  // above every bound
  LatencyHistogram::Snapshot s = h.Read();
  CHECK(s.count == 4);
  CHECK(s.cumulative[0] == 1);
  CHECK(s.cumulative[5] == 3);  // le 0.005
  CHECK(s.cumulative.back() == 3);
  CHECK(s.sum_seconds == Approx(20.00605));
  TextWriter out;
  out.Histogram("tide_d_seconds", "D", {{"k", "v"}}, s);
  const std::string& t = out.text();
  CHECK(t.find("# TYPE tide_d_seconds histogram\n") != std::string::npos);
  CHECK(t.find("tide_d_seconds_bucket{k=\"v\",le=\"0.0001\"} 1\n") != std::string::npos);
  CHECK(t.find("tide_d_seconds_bucket{k=\"v\",le=\"0.005\"} 3\n") != std::string::npos);
  CHECK(t.find("tide_d_seconds_bucket{k=\"v\",le=\"+Inf\"} 4\n") != std::string::npos);
  CHECK(t.find("tide_d_seconds_count{k=\"v\"} 4\n") != std::string::npos);
  CHECK(t.find("tide_d_seconds_sum{k=\"v\"} 20.00605\n") != std::string::npos);
}

}  // namespace
}  // namespace tide::metrics
