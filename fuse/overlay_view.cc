#include "fuse/overlay_view.h"

#include <algorithm>

namespace tide::fuse {

using format::EntryId;
using format::kNoEntry;

OverlayView::OverlayView(const format::LayerIndex& index) : index_(index) {
  for (EntryId dir = 0; dir < index.entry_count(); ++dir) {
    if (index.type(dir) != format::EntryType::kDirectory) continue;
    auto kids = index.children(dir);
    bool special = std::any_of(kids.begin(), kids.end(),
                               [&](EntryId k) { return index.name(k).starts_with(kWhiteoutPrefix); });
    if (!special) continue;
    std::vector<Child> shown;
    shown.reserve(kids.size());
    for (EntryId k : kids) {
      std::string_view name = index.name(k);
      if (name == kOpaqueMarker) {
        opaque_.insert(dir);
      } else if (name.starts_with(kWhiteoutPrefix) && name.size() > kWhiteoutPrefix.size()) {
        shown.push_back({name.substr(kWhiteoutPrefix.size()), k, true});
        whiteouts_.insert(k);
      } else {
        shown.push_back({name, k, false});
      }
    }
    std::stable_sort(shown.begin(), shown.end(),
                     [](const Child& a, const Child& b) { return a.name < b.name; });
    // A real entry and a whiteout of the same name in one layer: the real entry wins (it would
    // have been extracted after the whiteout was applied to lower layers).
    auto dup = [](const Child& a, const Child& b) { return a.name == b.name; };
    std::vector<Child> unique;
    unique.reserve(shown.size());
    for (const Child& c : shown) {
      if (!unique.empty() && dup(unique.back(), c)) {
        if (unique.back().whiteout) unique.back() = c;
        continue;
      }
      unique.push_back(c);
    }
    rewritten_.emplace(dir, std::move(unique));
  }
}

size_t OverlayView::child_count(EntryId dir) const {
  auto it = rewritten_.find(dir);
  return it != rewritten_.end() ? it->second.size() : index_.children(dir).size();
}

OverlayView::Child OverlayView::child(EntryId dir, size_t i) const {
  auto it = rewritten_.find(dir);
  if (it != rewritten_.end()) return it->second[i];
  EntryId k = index_.children(dir)[i];
  return {index_.name(k), k, false};
}

OverlayView::Child OverlayView::Lookup(EntryId dir, std::string_view name) const {
  auto it = rewritten_.find(dir);
  if (it == rewritten_.end()) {
    if (index_.type(dir) != format::EntryType::kDirectory) return {{}, kNoEntry, false};
    auto kids = index_.children(dir);
    auto pos = std::lower_bound(kids.begin(), kids.end(), name,
                                [this](EntryId id, std::string_view n) { return index_.name(id) < n; });
    if (pos == kids.end() || index_.name(*pos) != name) return {{}, kNoEntry, false};
    return {name, *pos, false};
  }
  const auto& kids = it->second;
  auto pos = std::lower_bound(kids.begin(), kids.end(), name,
                              [](const Child& c, std::string_view n) { return c.name < n; });
  if (pos == kids.end() || pos->name != name) return {{}, kNoEntry, false};
  return *pos;
}

}  // namespace tide::fuse
