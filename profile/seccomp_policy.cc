#include "profile/seccomp_policy.h"

#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"

namespace tide::profile {

namespace {

constexpr const char* kDenied[] = {
    // Mounts, old and new API, and changing the root.
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    // Kernel code and kernel state.
    "init_module",
    "finit_module",
    "delete_module",
    "create_module",
    "kexec_load",
    "kexec_file_load",
    "bpf",
    "perf_event_open",
    "reboot",
    "swapon",
    "swapoff",
    "quotactl",
    "quotactl_fd",
    "acct",
    "syslog",
    "iopl",
    "ioperm",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "lookup_dcookie",
    "nfsservctl",
    "uselib",
    "vhangup",
    "_sysctl",
    "fanotify_init",
    // Other processes' memory.
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    // Keyrings are not namespaced.
    "keyctl",
    "add_key",
    "request_key",
    // New or other namespaces.
    "unshare",
    "setns",
    // File handles open any inode of a filesystem, past the root.
    "open_by_handle_at",
    "name_to_handle_at",
    // userfaultfd stalls the kernel at will; io_uring runs operations seccomp never sees.
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
};

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

absl::Status Failed(const char* what, int rc) {
  return absl::InternalError(absl::StrCat("seccomp filter: ", what, ": ", std::strerror(-rc)));
}

absl::Status AddCompanionArchitectures(scmp_filter_ctx ctx) {
  const uint32_t native = seccomp_arch_native();
  std::vector<uint32_t> companions;
  if (native == SCMP_ARCH_X86_64) companions = {SCMP_ARCH_X86, SCMP_ARCH_X32};
  if (native == SCMP_ARCH_AARCH64) companions = {SCMP_ARCH_ARM};
  for (uint32_t arch : companions) {
    int rc = seccomp_arch_add(ctx, arch);
    if (rc != 0 && rc != -EEXIST) return Failed("add architecture", rc);
  }
  return absl::OkStatus();
}

absl::StatusOr<SeccompProgram> Export(scmp_filter_ctx ctx) {
  UniqueFd fd(::memfd_create("tide-seccomp", MFD_CLOEXEC));
  if (!fd.valid()) return absl::InternalError(absl::StrCat("memfd_create: ", std::strerror(errno)));
  if (int rc = seccomp_export_bpf(ctx, fd.get()); rc != 0) return Failed("export", rc);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || st.st_size <= 0 || st.st_size % sizeof(sock_filter) != 0 ||
      st.st_size / sizeof(sock_filter) > BPF_MAXINSNS) {
    return absl::InternalError("seccomp filter: export produced no valid program");
  }
  SeccompProgram program;
  program.instructions.resize(static_cast<size_t>(st.st_size) / sizeof(sock_filter));
  if (::pread(fd.get(), program.instructions.data(), static_cast<size_t>(st.st_size), 0) != st.st_size) {
    return absl::InternalError("seccomp filter: short read of the exported program");
  }
  return program;
}

}  // namespace

std::span<const char* const> SandboxDeniedSyscalls() { return kDenied; }

unsigned long SandboxDeniedCloneFlags() {
  return CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
         CLONE_NEWCGROUP;
}

absl::StatusOr<SeccompProgram> BuildSandboxSeccompProgram() {
  Context ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (ctx == nullptr) return absl::InternalError("seccomp filter: seccomp_init failed");
  if (absl::Status s = AddCompanionArchitectures(ctx.get()); !s.ok()) return s;
  for (const char* name : kDenied) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;
    if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), nr, 0); rc != 0) {
      return Failed(name, rc);
    }
  }
  const unsigned long clone_flags = SandboxDeniedCloneFlags();
  for (unsigned long bit = 1; bit != 0; bit <<= 1) {
    if ((clone_flags & bit) == 0) continue;
    int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, bit, bit));
    if (rc != 0) return Failed("clone", rc);
  }
  if (int nr = seccomp_syscall_resolve_name("clone3"); nr != __NR_SCMP_ERROR) {
    if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), nr, 0); rc != 0) {
      return Failed("clone3", rc);
    }
  }
  return Export(ctx.get());
}

int InstallSeccompProgram(const SeccompProgram& program) {
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.instructions.size());
  prog.filter = const_cast<sock_filter*>(program.instructions.data());
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) return errno;
  return 0;
}

}  // namespace tide::profile
