#ifndef TIDE_PROFILE_SANDBOX_PROCESS_H_
#define TIDE_PROFILE_SANDBOX_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace tide::profile {

// With a user namespace, the workload's ids 0..kSandboxIdCount-1 are host ids from kSandboxIdBase:
// a range far above login users and the usual /etc/subuid ranges, owned by nobody on the host.
// The image's layers must be served shifted by kSandboxIdBase (layer::LayerMountOptions).
inline constexpr uint32_t kSandboxIdBase = 0x7ff00000;
inline constexpr uint32_t kSandboxIdCount = 65536;

enum class SandboxNetwork { kPrivate, kHost };

// Per-process resource limits (setrlimit); 0 leaves one unset.
struct SandboxLimits {
  uint64_t address_space_bytes = uint64_t{8} << 30;  // RLIMIT_AS
  uint64_t cpu_seconds = 600;                        // RLIMIT_CPU
  uint64_t processes = 1024;                         // RLIMIT_NPROC, with a user namespace only
  uint64_t open_files = 16384;                       // RLIMIT_NOFILE
};

struct SandboxSpec {
  std::filesystem::path root;     // a mount (the image's overlay); becomes / (pivot_root)
  std::vector<std::string> argv;  // argv[0] as given; resolved against PATH inside root
  std::vector<std::string> env;   // KEY=VALUE
  std::string working_dir = "/";
  // The ids the workload runs with (ImageUser); inside the user namespace when there is one.
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  SandboxNetwork network = SandboxNetwork::kPrivate;
  // Root of a user namespace (host ids kSandboxIdBase..); false: host root with few capabilities.
  bool user_namespace = true;
  SandboxLimits limits;
};

// Whether this kernel lets tide create a user namespace (it may be disabled by sysctl or policy).
bool UserNamespacesAvailable();

// A workload confined as docs/security.md "The optimize sandbox" describes: new user (optional),
// mount, pid, network (unless kHost), IPC, UTS and cgroup namespaces; pivot_root into `root` with
// the old root detached; a fresh /proc and a minimal /dev; few capabilities, no_new_privs, a
// seccomp filter and rlimits. stdout and stderr on one pipe. The destructor kills it (the whole
// pid namespace goes with its init) and reaps it.
class SandboxProcess {
 public:
  // Returns once the workload was exec'd; a failure on the way names the step and the error.
  static absl::StatusOr<SandboxProcess> Start(const SandboxSpec& spec);
  SandboxProcess(SandboxProcess&& o) noexcept
      : pid_(std::exchange(o.pid_, -1)),
        out_(std::move(o.out_)),
        netns_(std::move(o.netns_)),
        exit_code_(o.exit_code_) {}
  SandboxProcess& operator=(SandboxProcess&&) = delete;
  ~SandboxProcess();

  int output_fd() const { return out_.get(); }
  // The workload's network namespace (the host's with SandboxNetwork::kHost).
  int netns_fd() const { return netns_.get(); }
  // Non-blocking: the exit code (128+signal when killed) once the workload ended, else -1.
  int Poll();

 private:
  SandboxProcess(pid_t pid, UniqueFd out, UniqueFd netns)
      : pid_(pid), out_(std::move(out)), netns_(std::move(netns)) {}
  pid_t pid_ = -1;
  UniqueFd out_;
  UniqueFd netns_;
  int exit_code_ = -1;
};

}  // namespace tide::profile

#endif  // TIDE_PROFILE_SANDBOX_PROCESS_H_
