#include "metrics/text_writer.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace tide::metrics {
namespace {

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  // Integers (the common case: counts, bytes) print exactly; others with full precision.
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
    return buf;
  }
  // The shortest form that reads back as the same double.
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void TextWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  if (!families_.insert(std::string(name)).second) return;
  absl::StrAppend(&out_, "# HELP ", std::string(name), " ", std::string(help), "\n# TYPE ", std::string(name),
                  " ", std::string(type), "\n");
}

void TextWriter::Sample(std::string_view name, const Labels& labels, double value) {
  out_.append(name);
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) out_ += ',';
      absl::StrAppend(&out_, labels[i].first, "=\"", EscapeLabelValue(labels[i].second), "\"");
    }
    out_ += '}';
  }
  absl::StrAppend(&out_, " ", FormatValue(value), "\n");
}

void TextWriter::Counter(std::string_view name, std::string_view help, const Labels& labels, double value) {
  Family(name, "counter", help);
  Sample(name, labels, value);
}

void TextWriter::Gauge(std::string_view name, std::string_view help, const Labels& labels, double value) {
  Family(name, "gauge", help);
  Sample(name, labels, value);
}

void TextWriter::Histogram(std::string_view name, std::string_view help, const Labels& labels,
                           const LatencyHistogram::Snapshot& snapshot) {
  Family(name, "histogram", help);
  const std::string base(name);
  for (size_t i = 0; i < LatencyHistogram::kBounds.size(); ++i) {
    Labels with_le = labels;
    with_le.emplace_back("le", FormatValue(LatencyHistogram::kBounds[i]));
    Sample(base + "_bucket", with_le, static_cast<double>(snapshot.cumulative[i]));
  }
  Labels inf = labels;
  inf.emplace_back("le", "+Inf");
  Sample(base + "_bucket", inf, static_cast<double>(snapshot.count));
  Sample(base + "_sum", labels, snapshot.sum_seconds);
  Sample(base + "_count", labels, static_cast<double>(snapshot.count));
}

}  // namespace tide::metrics
