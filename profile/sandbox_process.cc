#include "profile/sandbox_process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tide::profile {

namespace {

constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// PATH lookup inside the root; lstat-style so absolute symlinks inside the image count.
absl::StatusOr<std::string> ResolveProgram(const SandboxSpec& spec) {
  const std::string& name = spec.argv.front();
  if (name.find('/') != std::string::npos) return name;
  std::string path = kDefaultPath;
  for (const std::string& kv : spec.env) {
    if (kv.rfind("PATH=", 0) == 0) path = kv.substr(5);
  }
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    std::string candidate = absl::StrCat(dir, "/", name);
    std::error_code ec;
    auto st =
        std::filesystem::symlink_status(spec.root / std::filesystem::path(candidate).relative_path(), ec);
    if (!ec && std::filesystem::exists(st) && !std::filesystem::is_directory(st)) return candidate;
  }
  return absl::NotFoundError(
      absl::StrCat("command \"", name, "\" not found on PATH ", path, " in the image"));
}

constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};

// The paths a workload's /dev needs, prepared before fork (no allocation after it).
struct DevPaths {
  std::string dir;
  std::vector<std::string> host;
  std::vector<std::string> inside;
};

DevPaths MakeDevPaths(const std::string& root) {
  DevPaths d{root + "/dev", {}, {}};
  for (const char* name : kDevices) {
    d.host.push_back(std::string("/dev/") + name);
    d.inside.push_back(d.dir + "/" + name);
  }
  return d;
}

// A private tmpfs /dev with the usual character devices bound from the host, as runtimes give.
void MountDev(const DevPaths& dev) {
  if (::mount("tmpfs", dev.dir.c_str(), "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k") != 0) return;
  for (size_t i = 0; i < dev.host.size(); ++i) {
    int fd = ::open(dev.inside[i].c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    if (fd >= 0) ::close(fd);
    ::mount(dev.host[i].c_str(), dev.inside[i].c_str(), nullptr, MS_BIND, nullptr);
  }
}

// Runs between fork and exec: only system calls, everything was prepared by the parent.
[[noreturn]] void RunChild(const char* root, const DevPaths& dev, const char* wd, const char* program,
                           char* const* argv, char* const* envp, int out_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::unshare(CLONE_NEWNS | CLONE_NEWPID) != 0) ::_exit(125);
  pid_t init = ::fork();
  if (init < 0) ::_exit(125);
  if (init > 0) {
    int status = 0;
    while (::waitpid(init, &status, 0) < 0 && errno == EINTR) {
    }
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
  MountDev(dev);
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(out_fd, STDERR_FILENO);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
  if (::chroot(root) != 0 || ::chdir("/") != 0) ::_exit(126);
  ::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  if (::chdir(wd) != 0) ::_exit(126);
  ::execve(program, argv, envp);
  ::_exit(127);
}

}  // namespace

absl::StatusOr<SandboxProcess> SandboxProcess::Start(const SandboxSpec& spec) {
  if (spec.argv.empty())
    return absl::InvalidArgumentError("sandbox: no command to run (image has no entrypoint)");
  std::string program;
  {
    auto p = ResolveProgram(spec);
    if (!p.ok()) return p.status();
    program = *p;
  }
  std::vector<std::string> args = spec.argv;
  std::vector<std::string> env = spec.env;
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string root = spec.root.string();
  std::string wd = spec.working_dir.empty() ? "/" : spec.working_dir;
  DevPaths dev = MakeDevPaths(root);
  std::error_code ec;  // in the overlay's upper dir when the image lacks them
  std::filesystem::create_directories(dev.dir, ec);
  std::filesystem::create_directories(spec.root / "proc", ec);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0)
    RunChild(root.c_str(), dev, wd.c_str(), program.c_str(), argv.data(), envp.data(), write_end.get());
  return SandboxProcess(pid, std::move(read_end));
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
