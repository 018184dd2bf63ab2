#ifndef TIDE_PROFILE_SANDBOX_RECORDER_H_
#define TIDE_PROFILE_SANDBOX_RECORDER_H_

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fuse/startup_readahead.h"
#include "profile/sandbox_process.h"
#include "profile/startup_profile.h"

namespace tide::profile {

struct SandboxOptions {
  // A tide image (converted, without a startup set) in an OCI layout: dir and tag ("" = only entry).
  std::filesystem::path layout_dir;
  std::string tag;
  // argv to run; empty = the image's Entrypoint + Cmd. Run with the image's Env and WorkingDir.
  std::vector<std::string> command;
  // Ready conditions; the first met ends the run. With none, the run ends at the timeout or exit.
  std::string ready_line;
  int ready_port = 0;  // probed inside the workload's network namespace
  double timeout_seconds = 60;
  // Confinement (docs/security.md "The optimize sandbox").
  SandboxNetwork network = SandboxNetwork::kPrivate;
  bool user_namespace = true;  // when the kernel allows one
  SandboxLimits limits;
  // Scratch space for mountpoints, overlay upper dir and the chunk cache.
  std::filesystem::path work_dir;
  // Where the workload's stdout/stderr lines are echoed (nullptr = discarded).
  FILE* echo = nullptr;
  // Kernel read-ahead of the recording mounts (KiB). Recorded ranges are what the kernel asked for,
  // so they match a cold start that serves the startup set with the same window.
  uint32_t readahead_kb = fuse::kStartupReadaheadKb;
};

struct SandboxResult {
  StartupProfile profile;       // layers named by their diff_id
  bool ready = false;           // a ready condition was met (false: timeout or exit)
  int exit_code = -1;           // when the workload exited before ready
  bool user_namespace = false;  // the workload ran as root of a user namespace
};

// Runs the image's workload over tide's own FUSE mounts of its layers (overlayfs on top, in a
// SandboxProcess) with access recording on, until ready, and returns the reads each layer saw.
// With a user namespace the layers are served with owners shifted to the namespace's host ids.
// Everything mounted or started is torn down before returning.
absl::StatusOr<SandboxResult> RecordStartup(const SandboxOptions& options);

}  // namespace tide::profile

#endif  // TIDE_PROFILE_SANDBOX_RECORDER_H_
