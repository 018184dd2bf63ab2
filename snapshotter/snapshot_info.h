#ifndef TIDE_SNAPSHOTTER_SNAPSHOT_INFO_H_
#define TIDE_SNAPSHOTTER_SNAPSHOT_INFO_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace tide::snapshotter {

// Values match containerd's snapshots.v1 Kind enum so they can cross the wire unchanged.
enum class Kind : int { kView = 1, kActive = 2, kCommitted = 3 };

// "active", "view" or "committed", as containerd's filters spell them.
std::string_view KindName(Kind kind);

using Labels = std::map<std::string, std::string>;

// One snapshot as the metadata store keeps it. `name` is the backend key (containerd's
// `<ns>/<seq>/<key>` form or a name tide chose for a remote layer).
struct SnapshotInfo {
  int64_t id = 0;  // names the directory snapshots/<id>
  std::string name;
  std::string parent;
  Kind kind = Kind::kActive;
  Labels labels;
  absl::Time created;
  absl::Time updated;
  int64_t size = 0;     // bytes, recorded at commit
  int64_t inodes = 0;   // recorded at commit
  bool remote = false;  // the layer directory is served by a RemoteLayerMounter
};

struct Usage {
  int64_t size = 0;
  int64_t inodes = 0;
};

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_SNAPSHOT_INFO_H_
