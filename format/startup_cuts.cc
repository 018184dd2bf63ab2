#include "format/startup_cuts.h"

#include <algorithm>
#include <utility>

namespace tide::format {

std::vector<uint64_t> StartupCuts(std::span<const StartupFile::Range> ranges, uint64_t file_size,
                                  uint64_t min_gap) {
  std::vector<std::pair<uint64_t, uint64_t>> spans;  // [begin, end), page-aligned, within the file
  spans.reserve(ranges.size());
  for (const StartupFile::Range& r : ranges) {
    if (r.length == 0 || r.offset >= file_size) continue;
    const uint64_t end = r.offset + std::min(r.length, file_size - r.offset);
    const uint64_t begin = r.offset / kStartupCutAlign * kStartupCutAlign;
    const uint64_t rounded_up = (end + kStartupCutAlign - 1) / kStartupCutAlign * kStartupCutAlign;
    spans.emplace_back(begin, std::min(rounded_up, file_size));
  }
  std::sort(spans.begin(), spans.end());
  std::vector<uint64_t> cuts;
  uint64_t open_begin = 0;
  uint64_t open_end = 0;
  bool open = false;
  // A gap under min_gap at either end of the file joins the range next to it, like one between ranges.
  auto close = [&] {
    if (open_begin > min_gap) cuts.push_back(open_begin);
    if (open_end + min_gap < file_size) cuts.push_back(open_end);
  };
  for (const auto& [begin, end] : spans) {
    if (open && begin <= open_end + min_gap) {
      open_end = std::max(open_end, end);
      continue;
    }
    if (open) close();
    open_begin = begin;
    open_end = end;
    open = true;
  }
  if (open) close();
  return cuts;
}

}  // namespace tide::format
