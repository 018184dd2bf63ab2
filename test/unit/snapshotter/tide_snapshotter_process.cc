#include "test/unit/snapshotter/tide_snapshotter_process.h"

#include <signal.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "test/support/free_port.h"
#include "test/support/temp_dir.h"

namespace tide::testing {

std::string TideSnapshotterBinary() {
  const char* dir = std::getenv("TIDE_BINARY_DIR");
  return absl::StrCat(dir != nullptr ? dir : ".", "/snapshotter/tide-snapshotter");
}

absl::StatusOr<std::unique_ptr<TideSnapshotterProcess>> TideSnapshotterProcess::Start(
    const TideSnapshotterOptions& options) {
  std::unique_ptr<TideSnapshotterProcess> p(new TideSnapshotterProcess(options));
  auto& o = p->options_;
  if (o.binary.empty()) o.binary = TideSnapshotterBinary();
  if (o.log_path.empty()) o.log_path = o.root.string() + ".log";
  // The log is opened for appending, so a killed predecessor's log stays for diagnosis.
  std::vector<std::string> argv = {o.binary, "--root",      o.root.string(), "--address",
                                   o.socket, "--log-level", "debug"};
  if (!o.config.empty()) argv.insert(argv.end(), {"--config", o.config});
  auto proc = Subprocess::Start(argv, SubprocessOptions{.env = o.env, .log_path = o.log_path, .cwd = ""});
  if (!proc.ok()) return proc.status();
  p->process_.emplace(std::move(*proc));
  if (!WaitForUnixSocket(o.socket, std::chrono::seconds(20))) {
    return absl::UnavailableError(
        absl::StrCat("tide-snapshotter did not start; log:\n", ReadFile(o.log_path)));
  }
  return p;
}

void TideSnapshotterProcess::Kill() {
  if (process_) process_->Stop(SIGKILL, std::chrono::seconds(5));
}

int TideSnapshotterProcess::Stop() { return process_ ? process_->Stop(SIGTERM) : -1; }

TideSnapshotterProcess::~TideSnapshotterProcess() { Stop(); }

}  // namespace tide::testing
