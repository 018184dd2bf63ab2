#ifndef TIDE_TEST_INTEGRATION_SNAPSHOTTER_SNAPSHOTS_BEHAVIOUR_H_
#define TIDE_TEST_INTEGRATION_SNAPSHOTTER_SNAPSHOTS_BEHAVIOUR_H_

#include <filesystem>
#include <string>
#include <vector>

namespace tide::testing {

// Where the suite sends containerd.services.snapshots.v1 calls: straight to a snapshotter's socket,
// or to containerd (namespace header set, `snapshotter` naming the backend).
struct SnapshotsTarget {
  std::string socket;
  std::string snapshotter;        // request field; containerd routes on it, a proxy ignores it
  std::string ns;                 // containerd-namespace header; empty: none
  std::filesystem::path scratch;  // where the suite mounts what it gets back
};

// Runs the behaviour suite (prepare/commit/view chains with real mounts, usage, label updates,
// list filters, removal rules, cleanup, error codes) and returns its transcript: one line per step
// with everything that must not depend on the implementation (codes, kinds, labels, mount shapes,
// file contents seen through mounts, usage numbers). Paths and times are left out.
std::vector<std::string> RunSnapshotsBehaviourSuite(const SnapshotsTarget& target);

}  // namespace tide::testing

#endif  // TIDE_TEST_INTEGRATION_SNAPSHOTTER_SNAPSHOTS_BEHAVIOUR_H_
