#include "tidectl/pull_progress.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/string_view_compat.h"

namespace tide::tidectl {
namespace {

std::string LayerLine(const pull::LayerProgress& p) {
  std::string line =
      absl::StrFormat("layer %zu/%zu %s %-11s", p.index + 1, p.count,
                      std::string(p.digest.hex().substr(0, 12)), Sv(pull::LayerStateName(p.state)));
  if (p.state == pull::LayerState::kDownloading || p.state == pull::LayerState::kApplying) {
    absl::StrAppend(&line, " ", HumanBytes(p.bytes_done), " / ", HumanBytes(p.size));
  } else {
    absl::StrAppend(&line, " ", HumanBytes(p.size));
  }
  absl::StrAppend(&line, " ", std::string(p.layer_format), " ", p.media_type);
  return line;
}

}  // namespace

std::string HumanBytes(int64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? absl::StrCat(bytes, " B") : absl::StrFormat("%.1f %s", value, kUnits[unit]);
}

void PullProgressPrinter::operator()(const pull::LayerProgress& p) {
  bool same_state = printed_any_ && p.index == line_layer_ && p.state == last_state_;
  if (terminal_) {
    const char* start = p.index == line_layer_ ? "\r\033[K" : (printed_any_ ? "\n" : "");
    std::fprintf(out_, "%s%s", start, LayerLine(p).c_str());
  } else if (!same_state) {
    std::fprintf(out_, "%s\n", LayerLine(p).c_str());
  }
  if (terminal_ && p.index + 1 == p.count && p.state != pull::LayerState::kDownloading &&
      p.state != pull::LayerState::kApplying) {
    std::fprintf(out_, "\n");
    line_layer_ = SIZE_MAX;
    printed_any_ = false;
  } else {
    line_layer_ = p.index;
    printed_any_ = true;
  }
  last_state_ = p.state;
  std::fflush(out_);
}

std::string PullSummary(const pull::PullResult& r) {
  size_t layers = r.layers_lazy + r.layers_applied + r.layers_present;
  double percent =
      r.image_size > 0 ? 100.0 * static_cast<double>(r.bytes_fetched) / static_cast<double>(r.image_size) : 0;
  return absl::StrFormat(
      "pulled %s (%s): %zu layers (%zu lazy, %zu applied, %zu present); fetched %s of %s (%.1f%%)",
      r.image_name, r.target.digest.str(), layers, r.layers_lazy, r.layers_applied, r.layers_present,
      HumanBytes(r.bytes_fetched), HumanBytes(r.image_size), percent);
}

}  // namespace tide::tidectl
