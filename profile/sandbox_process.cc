#include "profile/sandbox_process.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "profile/image_root_file.h"
#include "profile/seccomp_policy.h"

namespace tide::profile {

namespace {

namespace fs = std::filesystem;

constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr char kHostname[] = "tide-optimize";

// What a workload keeps of root's powers: owning and changing its own files and ids, signals,
// low ports and chroot. Not CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_PTRACE, CAP_NET_ADMIN,
// CAP_DAC_READ_SEARCH (open_by_handle_at), CAP_MKNOD, CAP_SYS_RAWIO and the rest.
constexpr int kKeptCapabilities[] = {CAP_CHOWN,     CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID,
                                     CAP_KILL,      CAP_SETGID,       CAP_SETUID, CAP_NET_BIND_SERVICE,
                                     CAP_SYS_CHROOT};

constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};
// /proc files that change the host (sysctls outside the sandbox's own namespaces, sysrq, irq
// affinity): read-only, as runtimes make them.
constexpr const char* kProcReadOnly[] = {"sys", "sysrq-trigger", "irq",  "bus",
                                         "fs",  "scsi",          "acpi", "driver"};
// /proc files that show kernel memory or other users' keys: hidden behind /dev/null.
constexpr const char* kProcMasked[] = {"kcore", "keys", "timer_list", "sched_debug", "kallsyms"};

// Where the setup between fork and exec stopped, reported to the parent on a close-on-exec pipe:
// end of file there means the workload was exec'd.
enum SetupStep : int32_t {
  kNamespacesReady,
  kSession,
  kRootParent,
  kUnshare,
  kIds,
  kForkInit,
  kPrivateMounts,
  kBindRoot,
  kRootFlags,
  kDev,
  kProc,
  kProcProtect,
  kPivotRoot,
  kDetachOldRoot,
  kSetHostname,
  kLoopback,
  kStdio,
  kWorkingDir,
  kRlimits,
  kCloseFds,
  kCapabilities,
  kWorkloadIds,
  kNoNewPrivs,
  kSeccomp,
  kExec,
};
constexpr const char* kStepNames[] = {
    "namespaces",
    "new session",
    "enter the root's directory",
    "unshare namespaces",
    "set user and group ids",
    "fork the namespace's init",
    "private mounts",
    "bind the root",
    "remount the root nosuid,nodev",
    "mount /dev",
    "mount /proc",
    "protect /proc",
    "pivot_root",
    "detach the old root",
    "set hostname",
    "bring up loopback",
    "stdio",
    "working directory",
    "resource limits",
    "close inherited descriptors",
    "drop capabilities",
    "switch to the image's user",
    "no_new_privs",
    "seccomp filter",
    "exec",
};

static_assert(std::size(kStepNames) == kExec + 1, "a name for every setup step");

struct SetupReport {
  int32_t step = 0;
  int32_t error = 0;
};

// Everything the workload's setup needs, prepared before fork: after it, only system calls.
struct ChildPlan {
  // The directory holding the root. The setup works relative to it: the scratch directories above
  // are private to host root, and with a user namespace the setup no longer is host root.
  std::string root_parent;
  std::string root;
  std::string dev;
  std::vector<std::string> host_devices;
  std::vector<std::string> dev_files;
  std::string shm;
  std::vector<std::pair<std::string, std::string>> dev_links;  // target, link
  std::string proc;
  std::vector<std::string> proc_read_only;
  std::vector<std::string> proc_masked;
  std::string working_dir;
  std::string program;
  std::vector<std::string> arg_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  int unshare_flags = 0;
  bool user_namespace = false;
  bool private_network = false;
  SandboxLimits limits;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  int last_cap = 40;
  SeccompProgram seccomp;
  int out_fd = -1;
  int report_fd = -1;
  int go_fd = -1;
};

[[noreturn]] void Fail(const ChildPlan& plan, SetupStep step, int error = errno) {
  SetupReport r{step, error};
  [[maybe_unused]] ssize_t n = ::write(plan.report_fd, &r, sizeof(r));
  ::_exit(125);
}

bool BindReadOnly(const char* path) {
  if (::mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) != 0) return errno == ENOENT;
  return ::mount(nullptr, path, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 nullptr) == 0;
}

// A private tmpfs /dev with the usual character devices bound from the host and a /dev/shm.
void MountDev(const ChildPlan& plan) {
  if (::mount("tmpfs", plan.dev.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k") != 0)
    Fail(plan, kDev);
  for (size_t i = 0; i < plan.dev_files.size(); ++i) {
    if (::access(plan.host_devices[i].c_str(), F_OK) != 0) continue;
    int fd = ::open(plan.dev_files[i].c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) Fail(plan, kDev);
    ::close(fd);
    if (::mount(plan.host_devices[i].c_str(), plan.dev_files[i].c_str(), nullptr, MS_BIND, nullptr) != 0)
      Fail(plan, kDev);
  }
  if (::mkdir(plan.shm.c_str(), 01777) != 0 ||
      ::mount("shm", plan.shm.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=64m") != 0)
    Fail(plan, kDev);
  for (const auto& [target, link] : plan.dev_links) {
    if (::symlink(target.c_str(), link.c_str()) != 0) Fail(plan, kDev);
  }
}

void MountProc(const ChildPlan& plan) {
  if (::mount("proc", plan.proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    Fail(plan, kProc);
  for (const std::string& p : plan.proc_read_only) {
    if (!BindReadOnly(p.c_str())) Fail(plan, kProcProtect);
  }
  for (const std::string& p : plan.proc_masked) {
    if (::mount("/dev/null", p.c_str(), nullptr, MS_BIND, nullptr) != 0 && errno != ENOENT)
      Fail(plan, kProcProtect);
  }
}

void BringUpLoopback(const ChildPlan& plan) {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) Fail(plan, kLoopback);
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, "lo", 3);
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) Fail(plan, kLoopback);
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) Fail(plan, kLoopback);
  ::close(s);
}

void SetLimits(const ChildPlan& plan) {
  auto set = [&plan](int resource, uint64_t value) {
    if (value == 0) return;
    rlimit rl{static_cast<rlim_t>(value), static_cast<rlim_t>(value)};
    if (::setrlimit(resource, &rl) != 0) Fail(plan, kRlimits);
  };
  set(RLIMIT_AS, plan.limits.address_space_bytes);
  set(RLIMIT_CPU, plan.limits.cpu_seconds);
  set(RLIMIT_NOFILE, plan.limits.open_files);
  // Host root's RLIMIT_NPROC would count every root process on the host.
  if (plan.user_namespace) set(RLIMIT_NPROC, plan.limits.processes);
  rlimit no_core{0, 0};
  if (::setrlimit(RLIMIT_CORE, &no_core) != 0) Fail(plan, kRlimits);
}

void DropCapabilities(const ChildPlan& plan) {
  uint64_t keep = 0;
  for (int cap : kKeptCapabilities) keep |= uint64_t{1} << cap;
  for (int cap = 0; cap <= plan.last_cap && cap < 64; ++cap) {
    if ((keep & (uint64_t{1} << cap)) != 0) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) Fail(plan, kCapabilities);
  }
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    auto word = static_cast<uint32_t>(keep >> (32 * i));
    data[i].effective = word;
    data[i].permitted = word;
    data[i].inheritable = 0;
  }
  if (::syscall(SYS_capset, &header, data) != 0) Fail(plan, kCapabilities);
}

// The namespace's init: becomes the workload.
[[noreturn]] void RunInit(const ChildPlan& plan) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  const char* root = plan.root.c_str();
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) Fail(plan, kPrivateMounts);
  // A mount of its own (not one copied from the host's namespace) can be pivoted into.
  if (::mount(root, root, nullptr, MS_BIND | MS_REC, nullptr) != 0) Fail(plan, kBindRoot);
  if (::mount(nullptr, root, nullptr, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV, nullptr) != 0)
    Fail(plan, kRootFlags);
  MountDev(plan);
  MountProc(plan);
  // Relative to root_parent, so "root" is looked up afresh and crosses into the bind mount.
  if (::chdir(root) != 0 || ::syscall(SYS_pivot_root, ".", ".") != 0) Fail(plan, kPivotRoot);
  // The old root sits on top of the new one; detaching it leaves nothing of the host's tree.
  if (::umount2(".", MNT_DETACH) != 0 || ::chdir("/") != 0) Fail(plan, kDetachOldRoot);
  if (::sethostname(kHostname, sizeof(kHostname) - 1) != 0) Fail(plan, kSetHostname);
  if (plan.private_network) BringUpLoopback(plan);
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0 || ::dup2(devnull, STDIN_FILENO) < 0 || ::dup2(plan.out_fd, STDOUT_FILENO) < 0 ||
      ::dup2(plan.out_fd, STDERR_FILENO) < 0)
    Fail(plan, kStdio);
  if (::chdir(plan.working_dir.c_str()) != 0) Fail(plan, kWorkingDir);
  SetLimits(plan);
  // Whatever tidectl had open (FUSE devices, cache files, directories on the host) must not reach
  // the workload: an open directory is a way out of any root.
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) Fail(plan, kCloseFds);
  DropCapabilities(plan);
  // A user other than root loses the capabilities left here as it changes ids.
  if (::setgroups(plan.groups.size(), plan.groups.data()) != 0 ||
      ::setresgid(plan.gid, plan.gid, plan.gid) != 0 || ::setresuid(plan.uid, plan.uid, plan.uid) != 0)
    Fail(plan, kWorkloadIds);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // changing ids cleared it
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Fail(plan, kNoNewPrivs);
  if (int err = InstallSeccompProgram(plan.seccomp); err != 0) Fail(plan, kSeccomp, err);
  ::execve(plan.program.c_str(), plan.argv.data(), plan.envp.data());
  Fail(plan, kExec);
}

// The first child: creates the namespaces, waits for the parent to map its ids, and stays as the
// pid namespace's parent until its init ends.
[[noreturn]] void RunChild(const ChildPlan& plan) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // A session of its own has no controlling terminal: /dev/tty would otherwise be the operator's
  // terminal, where TIOCSTI types commands into the operator's shell.
  if (::setsid() < 0) Fail(plan, kSession);
  if (::chdir(plan.root_parent.c_str()) != 0) Fail(plan, kRootParent);
  if (::unshare(plan.unshare_flags) != 0) Fail(plan, kUnshare);
  SetupReport ready{kNamespacesReady, 0};
  if (::write(plan.report_fd, &ready, sizeof(ready)) != sizeof(ready)) ::_exit(125);
  char go = 0;
  if (::read(plan.go_fd, &go, 1) != 1) ::_exit(125);
  ::close(plan.go_fd);
  if (::setresgid(0, 0, 0) != 0 || ::setgroups(0, nullptr) != 0 || ::setresuid(0, 0, 0) != 0)
    Fail(plan, kIds);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // changing ids cleared it
  pid_t init = ::fork();
  if (init < 0) Fail(plan, kForkInit);
  if (init == 0) RunInit(plan);
  ::close(plan.report_fd);
  ::close(plan.out_fd);
  int status = 0;
  while (::waitpid(init, &status, 0) < 0 && errno == EINTR) {
  }
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

// PATH lookup inside the image root, symlinks resolved within it.
absl::StatusOr<std::string> ResolveProgram(const SandboxSpec& spec, int root_fd) {
  const std::string& name = spec.argv.front();
  if (name.find('/') != std::string::npos) return name;
  std::string path = kDefaultPath;
  for (const std::string& kv : spec.env) {
    if (kv.rfind("PATH=", 0) == 0) path = kv.substr(5);
  }
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    std::string candidate = absl::StrCat(dir, "/", name);
    absl::StatusOr<UniqueFd> fd = OpenInImageRoot(root_fd, candidate, O_PATH);
    struct stat st {};
    if (fd.ok() && ::fstat(fd->get(), &st) == 0 && !S_ISDIR(st.st_mode)) return candidate;
  }
  return absl::NotFoundError(
      absl::StrCat("command \"", name, "\" not found on PATH ", path, " in the image"));
}

// /dev and /proc of the image become mountpoints. Whatever the image has there that is not a
// directory (a symlink to a host path, say) is replaced in the overlay: mounting onto it would
// follow it out of the root.
absl::Status PrepareMountpoint(const fs::path& dir) {
  std::error_code ec;
  fs::file_status st = fs::symlink_status(dir, ec);
  if (!ec && fs::is_directory(st)) return absl::OkStatus();
  if (!ec && fs::exists(st)) fs::remove(dir, ec);
  if (!fs::create_directory(dir, ec) && ec) {
    return absl::InternalError(absl::StrCat("sandbox: mountpoint ", dir.string(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

int LastCapability() {
  std::ifstream f("/proc/sys/kernel/cap_last_cap");
  int last = 40;
  f >> last;
  return last;
}

ChildPlan MakePlan(const SandboxSpec& spec, std::string program) {
  ChildPlan plan;
  fs::path root = spec.root.lexically_normal();
  if (!root.has_filename()) root = root.parent_path();
  plan.root_parent = root.parent_path().string();
  plan.root = root.filename().string();
  plan.dev = plan.root + "/dev";
  for (const char* name : kDevices) {
    plan.host_devices.push_back(std::string("/dev/") + name);
    plan.dev_files.push_back(plan.dev + "/" + name);
  }
  plan.shm = plan.dev + "/shm";
  plan.dev_links = {{"/proc/self/fd", plan.dev + "/fd"},
                    {"/proc/self/fd/0", plan.dev + "/stdin"},
                    {"/proc/self/fd/1", plan.dev + "/stdout"},
                    {"/proc/self/fd/2", plan.dev + "/stderr"}};
  plan.proc = plan.root + "/proc";
  for (const char* p : kProcReadOnly) plan.proc_read_only.push_back(plan.proc + "/" + p);
  for (const char* p : kProcMasked) plan.proc_masked.push_back(plan.proc + "/" + p);
  plan.working_dir = spec.working_dir.empty() ? "/" : spec.working_dir;
  plan.program = std::move(program);
  plan.arg_storage = spec.argv;
  plan.env_storage = spec.env;
  for (std::string& a : plan.arg_storage) plan.argv.push_back(a.data());
  plan.argv.push_back(nullptr);
  for (std::string& e : plan.env_storage) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  plan.unshare_flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
  if (spec.network == SandboxNetwork::kPrivate) plan.unshare_flags |= CLONE_NEWNET;
  if (spec.user_namespace) plan.unshare_flags |= CLONE_NEWUSER;
  plan.user_namespace = spec.user_namespace;
  plan.private_network = spec.network == SandboxNetwork::kPrivate;
  plan.limits = spec.limits;
  plan.uid = spec.uid;
  plan.gid = spec.gid;
  plan.groups = spec.groups;
  plan.last_cap = LastCapability();
  return plan;
}

absl::Status WriteProcFile(pid_t pid, const char* name, const std::string& text) {
  std::string path = absl::StrCat("/proc/", pid, "/", name);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid() || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return absl::InternalError(absl::StrCat("sandbox: write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// Reads one report: false at end of file (the workload was exec'd).
bool ReadReport(int fd, SetupReport& report) {
  size_t got = 0;
  auto* bytes = reinterpret_cast<char*>(&report);
  while (got < sizeof(report)) {
    ssize_t n = ::read(fd, bytes + got, sizeof(report) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

absl::Status SetupFailed(const SetupReport& r, const std::string& program) {
  const char* step =
      r.step >= 0 && static_cast<size_t>(r.step) < std::size(kStepNames) ? kStepNames[r.step] : "setup";
  std::string what = r.step == kExec ? absl::StrCat("exec ", program) : step;
  return absl::FailedPreconditionError(absl::StrCat("sandbox: ", what, ": ", std::strerror(r.error)));
}

}  // namespace

bool UserNamespacesAvailable() {
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) ::_exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

absl::StatusOr<SandboxProcess> SandboxProcess::Start(const SandboxSpec& spec) {
  if (spec.argv.empty())
    return absl::InvalidArgumentError("sandbox: no command to run (image has no entrypoint)");
  UniqueFd root_fd(::open(spec.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) {
    return absl::InternalError(
        absl::StrCat("sandbox: open ", spec.root.string(), ": ", std::strerror(errno)));
  }
  absl::StatusOr<std::string> program = ResolveProgram(spec, root_fd.get());
  if (!program.ok()) return program.status();
  for (const char* dir : {"dev", "proc"}) {
    if (absl::Status s = PrepareMountpoint(spec.root / dir); !s.ok()) return s;
  }
  ChildPlan plan = MakePlan(spec, *program);
  absl::StatusOr<SeccompProgram> seccomp = BuildSandboxSeccompProgram();
  if (!seccomp.ok()) return seccomp.status();
  plan.seccomp = *std::move(seccomp);

  int out[2], report[2], go[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  UniqueFd out_read(out[0]), out_write(out[1]);
  if (::pipe2(report, O_CLOEXEC) != 0)
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  UniqueFd report_read(report[0]), report_write(report[1]);
  if (::pipe2(go, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  UniqueFd go_read(go[0]), go_write(go[1]);
  plan.out_fd = out_write.get();
  plan.report_fd = report_write.get();
  plan.go_fd = go_read.get();

  pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) RunChild(plan);
  SandboxProcess proc(pid, std::move(out_read), UniqueFd());  // kills the child on every error path
  out_write.reset();
  report_write.reset();
  go_read.reset();

  SetupReport r;
  if (!ReadReport(report_read.get(), r)) return absl::InternalError("sandbox: the child ended during setup");
  if (r.step != kNamespacesReady) return SetupFailed(r, plan.program);
  if (spec.user_namespace) {
    std::string map = absl::StrCat("0 ", kSandboxIdBase, " ", kSandboxIdCount, "\n");
    if (absl::Status s = WriteProcFile(pid, "uid_map", map); !s.ok()) return s;
    if (absl::Status s = WriteProcFile(pid, "gid_map", map); !s.ok()) return s;
  }
  std::string netns = absl::StrCat("/proc/", pid, "/ns/net");
  proc.netns_ = UniqueFd(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
  if (!proc.netns_.valid()) {
    return absl::InternalError(absl::StrCat("sandbox: open ", netns, ": ", std::strerror(errno)));
  }
  char go_byte = 1;
  if (::write(go_write.get(), &go_byte, 1) != 1)
    return absl::InternalError("sandbox: the child ended during setup");
  go_write.reset();
  if (ReadReport(report_read.get(), r)) return SetupFailed(r, plan.program);
  return proc;
}

int SandboxProcess::Poll() {
  if (exit_code_ >= 0 || pid_ < 0) return exit_code_;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
  }
  return exit_code_;
}

SandboxProcess::~SandboxProcess() {
  if (pid_ < 0) return;
  // Killing the namespace's parent makes its init die (PDEATHSIG), which ends the whole namespace.
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace tide::profile
