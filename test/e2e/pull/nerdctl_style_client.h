#ifndef TIDE_TEST_E2E_PULL_NERDCTL_STYLE_CLIENT_H_
#define TIDE_TEST_E2E_PULL_NERDCTL_STYLE_CLIENT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "test/e2e/pull/pull_env.h"

namespace tide::testing {

struct NerdctlLayerResult {
  absl::Status prepare;       // AlreadyExists = taken remotely; OK = mounts handed back
  bool committed = false;     // Stat(chainID) succeeded afterwards
  bool remote_label = false;  // the snapshot carries containerd.io/snapshot/remote
  bool cri_labels = false;    // any containerd.io/snapshot/cri.* label reached the snapshot
};

// The snapshot calls nerdctl's pull makes for a snapshotter whose name it does not know
// (containerd's client unpacker), bottom layer first, inside a lease: Stat(chainID),
// then Prepare("extract-… <chainID>", parent chainID, labels = containerd.io/snapshot.ref plus the
// layer descriptor's containerd.io/snapshot/* annotations, and nothing else). Stops at the first
// layer the snapshotter does not take remotely (nerdctl would download and apply it). The lease is
// deleted with sync at the end, so whatever was created goes to GC.
std::vector<NerdctlLayerResult> NerdctlStyleUnpack(PullEnv& env, const std::string& ref,
                                                   const std::string& ns = "default");

}  // namespace tide::testing

#endif  // TIDE_TEST_E2E_PULL_NERDCTL_STYLE_CLIENT_H_
