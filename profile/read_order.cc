#include "profile/read_order.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"

namespace tide::profile {

absl::Status WriteReadOrder(const std::filesystem::path& path, const std::vector<uint64_t>& order) {
  std::string text;
  for (uint64_t n : order) absl::StrAppend(&text, n, "\n");
  absl::Status s = WriteFileAtomically(path, text);
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat("read order ", path.string(), ": ", s.message()));
  return s;
}

absl::StatusOr<std::vector<uint64_t>> ReadReadOrder(const std::filesystem::path& path,
                                                    size_t expected_reads) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("read order ", path.string(), ": cannot open"));
  std::vector<uint64_t> order;
  std::string line;
  while (std::getline(in, line)) {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), n);
    if (ec != std::errc() || end != line.data() + line.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("read order ", path.string(), ":", order.size() + 1, ": not a decimal number"));
    }
    order.push_back(n);
  }
  if (order.size() != expected_reads) {
    return absl::InvalidArgumentError(absl::StrCat("read order ", path.string(), ": ", order.size(),
                                                   " lines for a profile of ", expected_reads, " reads"));
  }
  return order;
}

StartupProfile MergeByReadOrder(const std::vector<StartupProfile>& layers,
                                const std::vector<std::vector<uint64_t>>& orders) {
  struct Keyed {
    uint64_t order;
    size_t layer;
    const ProfileRead* read;
  };
  StartupProfile out;
  std::vector<Keyed> all;
  for (size_t l = 0; l < layers.size(); ++l) {
    if (layers[l].layers.size() != 1) continue;
    const size_t layer = out.AddLayer(layers[l].layers.front());
    for (size_t i = 0; i < layers[l].reads.size(); ++i) {
      const uint64_t order = l < orders.size() && i < orders[l].size() ? orders[l][i] : UINT64_MAX;
      all.push_back({order, layer, &layers[l].reads[i]});
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const Keyed& a, const Keyed& b) { return a.order < b.order; });
  for (const Keyed& k : all) out.reads.push_back({k.layer, k.read->path, k.read->offset, k.read->length});
  return out;
}

}  // namespace tide::profile
