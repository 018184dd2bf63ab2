#include "snapshotter/snapshot_info.h"

namespace tide::snapshotter {

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kView:
      return "view";
    case Kind::kActive:
      return "active";
    case Kind::kCommitted:
      return "committed";
  }
  return "unknown";
}

}  // namespace tide::snapshotter
