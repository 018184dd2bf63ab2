#include "tidectl/layer_report.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "common/string_view_compat.h"

namespace tide::tidectl {

void PrintIndexSummary(FILE* out, const format::LayerIndex& index, uint64_t blob_size) {
  uint64_t startup_bytes = 0;
  for (uint32_t c : index.startup_chunks()) startup_bytes += index.chunk(c).uncompressed_size;
  absl::FPrintF(out, "    entries:        %d (%d in the tar)\n", index.entry_count(),
                index.tar_entry_count());
  absl::FPrintF(out, "    chunks:         %d (chunk size %d)\n", index.chunks().size(), index.chunk_size());
  // Other formats' chunks hold file contents only; tide's tile the whole tar.
  absl::FPrintF(
      out, "    %s %d bytes\n",
      index.format() == format::LayerFormat::kTide ? "uncompressed:  " : "file data:     ", index.tar_size());
  absl::FPrintF(
      out, "    compressed:     %d bytes (data %d, ratio %.3f)\n", blob_size, index.data_end(),
      index.tar_size() > 0 ? static_cast<double>(blob_size) / static_cast<double>(index.tar_size()) : 0.0);
  absl::FPrintF(out, "    startup set:    %d chunks, %d bytes uncompressed, ends at blob offset %d\n",
                index.startup_chunks().size(), startup_bytes, index.startup_end_offset());
  if (!index.startup_ranks().empty()) {
    auto [lo, hi] = std::minmax_element(index.startup_ranks().begin(), index.startup_ranks().end());
    absl::FPrintF(out, "    startup ranks:  %d..%d (first access in the image-wide order)\n", *lo, *hi);
  }
  absl::FPrintF(out, "    diff_id:        %s\n",
                index.diff_id().empty() ? std::string("(not named by the TOC)") : index.diff_id().str());
  absl::FPrintF(out, "    index memory:   %d bytes\n", index.MemoryUsage());
}

void PrintEntries(FILE* out, const format::LayerIndex& index) {
  for (format::EntryId id = 1; id <= index.tar_entry_count() && id < index.entry_count(); ++id) {
    const format::EntryAttr& a = index.attr(id);
    std::string_view link = index.link_target(id);
    absl::FPrintF(out, "    %-9s %04o %5d:%-5d %12d  %s%s%s\n", Sv(format::EntryTypeName(a.type)),
                  a.mode & 07777, a.uid, a.gid, a.size, Sv(index.path(id)), link.empty() ? "" : " -> ",
                  Sv(link));
  }
}

}  // namespace tide::tidectl
