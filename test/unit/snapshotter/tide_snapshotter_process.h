#ifndef TIDE_TEST_UNIT_SNAPSHOTTER_TIDE_SNAPSHOTTER_PROCESS_H_
#define TIDE_TEST_UNIT_SNAPSHOTTER_TIDE_SNAPSHOTTER_PROCESS_H_

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "test/support/subprocess.h"

namespace tide::testing {

struct TideSnapshotterOptions {
  std::filesystem::path root;    // state directory (kept across restarts by the caller)
  std::string socket;            // unix socket path
  std::string binary;            // default: $TIDE_BINARY_DIR/snapshotter/tide-snapshotter
  std::vector<std::string> env;  // extra NAME=VALUE
  std::string log_path;          // default: <root>.log
  std::string config;            // a config file (--config), if any
};

// A tide-snapshotter daemon started by a test; stopped (SIGTERM) on destruction.
class TideSnapshotterProcess {
 public:
  static absl::StatusOr<std::unique_ptr<TideSnapshotterProcess>> Start(const TideSnapshotterOptions& options);
  ~TideSnapshotterProcess();

  const std::string& socket() const { return options_.socket; }
  const std::string& log_path() const { return options_.log_path; }
  int pid() const { return process_ ? process_->pid() : 0; }
  // SIGKILL, as a crash: no clean-up of any kind runs in the daemon.
  void Kill();
  // SIGTERM and wait; returns the exit status.
  int Stop();

 private:
  explicit TideSnapshotterProcess(TideSnapshotterOptions options) : options_(std::move(options)) {}
  TideSnapshotterOptions options_;
  std::optional<Subprocess> process_;
};

std::string TideSnapshotterBinary();

}  // namespace tide::testing

#endif  // TIDE_TEST_UNIT_SNAPSHOTTER_TIDE_SNAPSHOTTER_PROCESS_H_
