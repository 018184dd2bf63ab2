#ifndef TIDE_PROFILE_SECCOMP_POLICY_H_
#define TIDE_PROFILE_SECCOMP_POLICY_H_

#include <linux/filter.h>

#include <span>
#include <vector>

#include "absl/status/statusor.h"

namespace tide::profile {

// The system calls a workload under `tidectl optimize` gets EPERM for: those that reach past its
// namespaces (mount, module loading, kexec, ptrace, keyrings, bpf, new or joined namespaces, file
// handles, the new mount API, io_uring, clock and swap changes). Names as libseccomp knows them;
// one missing on this architecture is skipped.
std::span<const char* const> SandboxDeniedSyscalls();

// clone() flags that would create a namespace; clone() with any of them gets EPERM. clone3 gets
// ENOSYS (its flags are behind a pointer a filter cannot read), so libc falls back to clone.
unsigned long SandboxDeniedCloneFlags();

// A compiled filter: everything not denied above is allowed.
struct SeccompProgram {
  std::vector<sock_filter> instructions;
};

// Built with libseccomp for this architecture (and its 32-bit companions, so int 0x80 and x32
// cannot go around it) before fork, because compiling allocates.
absl::StatusOr<SeccompProgram> BuildSandboxSeccompProgram();

// Installs `program` on the calling thread: 0, or the errno. Needs no_new_privs (or
// CAP_SYS_ADMIN); safe between fork and exec.
int InstallSeccompProgram(const SeccompProgram& program);

}  // namespace tide::profile

#endif  // TIDE_PROFILE_SECCOMP_POLICY_H_
