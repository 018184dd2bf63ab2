// tide-fuse-keeper: holds one FUSE connection open while tide-snapshotter restarts.
//
// Started by tide-snapshotter for each layer it mounts (fuse/fuse_keepers.h), with the connection's
// /dev/fuse descriptor on fd 3 and the mountpoint as its argument (for ps and for the record).
// Forks once so it is nobody's child, prints the pid that stays on stdout, and then only waits:
// it never reads or writes the device. It exits when the connection ends (unmounted or aborted),
// which the kernel reports as POLLERR on the descriptor.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>

namespace {

constexpr int kFuseFd = 3;

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || fcntl(kFuseFd, F_GETFD) < 0) {
    std::fprintf(stderr, "usage: %s MOUNTPOINT, with the /dev/fuse descriptor on fd 3\n", argv[0]);
    return 2;
  }
  std::signal(SIGHUP, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  pid_t child = fork();
  if (child < 0) return 1;
  if (child > 0) _exit(0);
  std::printf("%d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
  }
  close_range(kFuseFd + 1, ~0U, 0);
  // Holds no directory of the daemon's: a temp dir it ran in must stay removable.
  if (chdir("/") != 0) return 1;
  while (true) {
    pollfd p{kFuseFd, 0, 0};
    int r = poll(&p, 1, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return 0;
  }
}
