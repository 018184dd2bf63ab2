#ifndef TIDE_PROFILE_SANDBOX_PROCESS_H_
#define TIDE_PROFILE_SANDBOX_PROCESS_H_

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace tide::profile {

struct SandboxSpec {
  std::filesystem::path root;     // becomes / (chroot)
  std::vector<std::string> argv;  // argv[0] as given; resolved against PATH inside root
  std::vector<std::string> env;   // KEY=VALUE
  std::string working_dir = "/";
};

// A workload running chrooted in new mount and pid namespaces, stdout and stderr on one pipe.
// The destructor kills it (the whole pid namespace goes with its init) and reaps it.
class SandboxProcess {
 public:
  static absl::StatusOr<SandboxProcess> Start(const SandboxSpec& spec);
  SandboxProcess(SandboxProcess&& o) noexcept
      : pid_(std::exchange(o.pid_, -1)), out_(std::move(o.out_)), exit_code_(o.exit_code_) {}
  SandboxProcess& operator=(SandboxProcess&&) = delete;
  ~SandboxProcess();

  int output_fd() const { return out_.get(); }
  // Non-blocking: the exit code (128+signal when killed) once the workload ended, else -1.
  int Poll();

 private:
  SandboxProcess(pid_t pid, UniqueFd out) : pid_(pid), out_(std::move(out)) {}
  pid_t pid_ = -1;
  UniqueFd out_;
  int exit_code_ = -1;
};

}  // namespace tide::profile

#endif  // TIDE_PROFILE_SANDBOX_PROCESS_H_
