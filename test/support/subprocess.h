#ifndef TIDE_TEST_SUPPORT_SUBPROCESS_H_
#define TIDE_TEST_SUPPORT_SUBPROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tide::testing {

struct SubprocessOptions {
  std::vector<std::string> env;  // extra NAME=VALUE pairs on top of the current environment
  std::string log_path;          // stdout+stderr go here; empty means inherit
  std::string cwd;
};

// A child process in its own process group. The destructor stops it (SIGTERM, then SIGKILL after a
// grace period) so a failing test never leaves it running. Only processes this object started are
// ever signalled.
class Subprocess {
 public:
  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv,
                                          const SubprocessOptions& options = {});
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  bool Running();
  // Signals the process (not its group) and returns once it exited or the grace period passed.
  int Stop(int signal = 15, std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Waits for exit; returns the exit status as from waitpid (WEXITSTATUS-ready) or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);

 private:
  Subprocess() = default;
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

struct CommandResult {
  int exit_code = -1;  // -1 if killed by a signal or timed out
  std::string output;  // stdout and stderr interleaved
};

// Runs argv to completion (killing it after timeout) and captures its output.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::seconds timeout = std::chrono::seconds(120),
                         const std::vector<std::string>& env = {});
// Runs "sh -c script".
CommandResult RunShell(const std::string& script, std::chrono::seconds timeout = std::chrono::seconds(120));

}  // namespace tide::testing

#endif  // TIDE_TEST_SUPPORT_SUBPROCESS_H_
