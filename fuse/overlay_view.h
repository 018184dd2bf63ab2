#ifndef TIDE_FUSE_OVERLAY_VIEW_H_
#define TIDE_FUSE_OVERLAY_VIEW_H_

#include <span>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "format/layer_index.h"

namespace tide::fuse {

// A layer as overlayfs wants its lower layers: OCI whiteouts ".wh.NAME" become 0/0 character
// devices named NAME, and an opaque marker ".wh..wh..opq" disappears and marks its directory with
// trusted.overlay.opaque=y. Only directories that contain such names get a rewritten child list, so
// an ordinary layer costs nothing extra.
class OverlayView {
 public:
  struct Child {
    std::string_view name;  // as shown
    format::EntryId id;     // the name-bearing entry (Resolve() it for the inode)
    bool whiteout;
  };

  explicit OverlayView(const format::LayerIndex& index);

  // Children of `dir` as shown, sorted by shown name.
  size_t child_count(format::EntryId dir) const;
  Child child(format::EntryId dir, size_t i) const;
  // The shown child called `name`, or nullopt-like {.id = kNoEntry}.
  Child Lookup(format::EntryId dir, std::string_view name) const;

  bool IsWhiteout(format::EntryId id) const { return whiteouts_.contains(id); }
  bool IsOpaque(format::EntryId dir) const { return opaque_.contains(dir); }
  bool any_opaque() const { return !opaque_.empty(); }
  const absl::flat_hash_set<format::EntryId>& opaque_dirs() const { return opaque_; }

 private:
  const format::LayerIndex& index_;
  absl::flat_hash_map<format::EntryId, std::vector<Child>> rewritten_;
  absl::flat_hash_set<format::EntryId> whiteouts_;
  absl::flat_hash_set<format::EntryId> opaque_;
};

inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
inline constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
inline constexpr std::string_view kOverlayOpaqueXattr = "trusted.overlay.opaque";

}  // namespace tide::fuse

#endif  // TIDE_FUSE_OVERLAY_VIEW_H_
