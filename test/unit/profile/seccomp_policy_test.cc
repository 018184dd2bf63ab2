// The optimize sandbox's seccomp filter: built for this architecture, it refuses what it lists and
// leaves ordinary system calls (fork included) alone.
#include "profile/seccomp_policy.h"

#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <string>
#include <vector>

namespace {

using tide::profile::BuildSandboxSeccompProgram;
using tide::profile::InstallSeccompProgram;
using tide::profile::SandboxDeniedSyscalls;

// Runs `checks` in a child under the filter; returns the child's exit code (0: every check held).
int ExitCodeUnderFilter(int (*checks)()) {
  auto program = BuildSandboxSeccompProgram();
  REQUIRE(program.ok());
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(100);
    if (InstallSeccompProgram(*program) != 0) ::_exit(101);
    ::_exit(checks());
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

bool FailsWith(long rc, int error) { return rc == -1 && errno == error; }

int DeniedCallsFail() {
  if (!FailsWith(::mount("none", "/", "tmpfs", 0, nullptr), EPERM)) return 1;
  if (!FailsWith(::umount2("/", MNT_DETACH), EPERM)) return 2;
  if (!FailsWith(::unshare(CLONE_NEWNS), EPERM)) return 3;
  if (!FailsWith(::syscall(SYS_setns, 0, 0), EPERM)) return 4;
  if (!FailsWith(::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr), EPERM)) return 5;
  if (!FailsWith(::syscall(SYS_init_module, nullptr, 0, ""), EPERM)) return 6;
  if (!FailsWith(::syscall(SYS_bpf, 0, nullptr, 0), EPERM)) return 7;
  if (!FailsWith(::syscall(SYS_keyctl, 0, 0, 0, 0, 0), EPERM)) return 8;
  if (!FailsWith(::syscall(SYS_fsopen, "tmpfs", 0), EPERM)) return 9;
  if (!FailsWith(::syscall(SYS_open_by_handle_at, AT_FDCWD, nullptr, 0), EPERM)) return 10;
  if (!FailsWith(::syscall(SYS_io_uring_setup, 1, nullptr), EPERM)) return 11;
  // A namespace flag on clone is refused; clone3 is "not implemented", so libc falls back to clone.
  if (!FailsWith(::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), EPERM)) return 12;
  if (!FailsWith(::syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0), EPERM)) return 13;
  if (!FailsWith(::syscall(SYS_clone3, nullptr, 0), ENOSYS)) return 14;
  return 0;
}

int OrdinaryCallsWork() {
  if (::getpid() <= 0) return 1;
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 2;
  ::close(fd);
  // fork is clone without namespace flags.
  pid_t child = ::fork();
  if (child < 0) return 3;
  if (child == 0) ::_exit(7);
  int status = 0;
  if (::waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 7) return 4;
  return 0;
}

}  // namespace

TEST_CASE("the sandbox's seccomp filter refuses what it lists", "[profile][sandbox][seccomp]") {
  CHECK(ExitCodeUnderFilter(DeniedCallsFail) == 0);
}

TEST_CASE("the sandbox's seccomp filter leaves ordinary calls and fork alone",
          "[profile][sandbox][seccomp]") {
  CHECK(ExitCodeUnderFilter(OrdinaryCallsWork) == 0);
}

TEST_CASE("every escape the filter is meant to close is a system call of this architecture",
          "[profile][sandbox][seccomp]") {
  const std::vector<std::string> must = {
      "mount",      "umount2", "pivot_root",        "init_module", "finit_module",    "delete_module",
      "kexec_load", "ptrace",  "process_vm_readv",  "bpf",         "perf_event_open", "keyctl",
      "unshare",    "setns",   "open_by_handle_at", "fsopen"};
  auto denied = SandboxDeniedSyscalls();
  for (const std::string& name : must) {
    INFO(name);
    CHECK(std::find(denied.begin(), denied.end(), name) != denied.end());
    CHECK(seccomp_syscall_resolve_name(name.c_str()) >= 0);
  }
}
