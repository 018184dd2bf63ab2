// Runs inside `tidectl optimize`'s sandbox and tries to get out. Prints one line per attempt,
// "PROBE <name> blocked: <why>" or "PROBE <name> ESCAPED", then "PROBE done". Statically linked,
// so it needs nothing from the image.
// Usage: sandbox_escape_probe HOST_PORT HOST_PID HOST_MARKER_FILE HOST_WRITE_PATH
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void Report(const char* name, bool escaped, int error) {
  if (escaped) {
    std::printf("PROBE %s ESCAPED\n", name);
  } else {
    std::printf("PROBE %s blocked: %s\n", name, std::strerror(error));
  }
  std::fflush(stdout);
}

// A system call that must fail; returning >= 0 is an escape.
void Expect(const char* name, long rc) { Report(name, rc >= 0, errno); }

// A system call that fails anyway for a bad argument; only EPERM (refused as a privilege) counts
// as blocked.
void ExpectDenied(const char* name, long rc) { Report(name, rc >= 0 || errno != EPERM, errno); }

void TryMount() {
  Expect("mount", ::mount("tmpfs", "/tmp", "tmpfs", 0, nullptr));
  Expect("fsopen", ::syscall(SYS_fsopen, "tmpfs", 0));
  Expect("unshare-user-mount", ::unshare(CLONE_NEWUSER | CLONE_NEWNS));
}

void TryModules() {
  static char garbage[64] = "not an ELF module";
  ExpectDenied("init_module", ::syscall(SYS_init_module, garbage, sizeof(garbage), ""));
  int fd = ::open("/dev/null", O_RDONLY);
  ExpectDenied("finit_module", ::syscall(SYS_finit_module, fd, "", 0));
  ::close(fd);
  ExpectDenied("delete_module", ::syscall(SYS_delete_module, "tide_no_such_module", O_NONBLOCK));
}

void TryHostNetwork(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Expect("host-network", ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
  ::close(s);
}

void TryWriteOutside(const char* host_path) {
  Expect("write-host-path", ::open(host_path, O_CREAT | O_WRONLY, 0644));
  // Opening is enough to show it would be writable; nothing is written.
  Expect("write-core-pattern", ::open("/proc/sys/kernel/core_pattern", O_WRONLY));
  Expect("write-sysrq", ::open("/proc/sysrq-trigger", O_WRONLY));
  // A block device node would reach a host disk whatever the root.
  long rc = ::mknod("/tmp/probe-disk", S_IFBLK | 0600, makedev(7, 0));
  if (rc == 0) rc = ::open("/tmp/probe-disk", O_RDONLY);
  Expect("block-device", rc);
}

// The controlling terminal of whoever ran tidectl: TIOCSTI there types into their shell.
void TryTerminal() { Expect("controlling-terminal", ::open("/dev/tty", O_RDWR)); }

void TryPtrace(pid_t host_pid) {
  Expect("ptrace-host", ::ptrace(PTRACE_ATTACH, host_pid, nullptr, nullptr));
  pid_t parent = ::getppid();
  long traced = ::ptrace(PTRACE_ATTACH, parent, nullptr, nullptr);
  Report("ptrace-parent", traced >= 0, errno);
  if (traced >= 0) ::ptrace(PTRACE_DETACH, parent, nullptr, nullptr);
  char buf[16];
  iovec local{buf, sizeof(buf)};
  iovec remote{reinterpret_cast<void*>(0x400000), sizeof(buf)};
  Expect("process_vm_readv", ::syscall(SYS_process_vm_readv, parent, &local, 1, &remote, 1, 0));
}

void TryLeaveRoot(const char* marker) {
  // The classic way out of a chroot: chroot deeper, keep the cwd outside, walk up.
  ::mkdir("/tmp/probe-jail", 0755);
  bool escaped = false;
  int error = 0;
  if (::chroot("/tmp/probe-jail") == 0) {
    for (int i = 0; i < 64; ++i) ::chdir("..");
    if (::chroot(".") == 0) escaped = ::access(marker, F_OK) == 0;
    error = errno;
    ::chroot(".");
  } else {
    error = errno;
  }
  Report("chroot-dotdot", escaped, error == 0 ? ENOENT : error);
  std::string via_proc = std::string("/proc/1/root") + marker;
  Expect("proc-1-root", ::open(via_proc.c_str(), O_RDONLY));
  Expect("host-marker", ::open(marker, O_RDONLY));
  struct {
    unsigned int bytes;
    int type;
    unsigned char data[128];
  } handle{128, 0, {}};
  int mount_id = 0;
  Expect("name_to_handle_at", ::syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &handle, &mount_id, 0));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s HOST_PORT HOST_PID HOST_MARKER_FILE HOST_WRITE_PATH\n", argv[0]);
    return 2;
  }
  // Mount and escape attempts first: they must not depend on what the others changed.
  TryMount();
  TryModules();
  TryHostNetwork(std::atoi(argv[1]));
  TryWriteOutside(argv[4]);
  TryTerminal();
  TryPtrace(static_cast<pid_t>(std::atoi(argv[2])));
  TryLeaveRoot(argv[3]);
  std::printf("PROBE done\n");
  return 0;
}
