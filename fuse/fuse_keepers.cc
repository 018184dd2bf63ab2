#include "fuse/fuse_keepers.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace tide::fuse {
namespace fs = std::filesystem;

namespace {

// The keeper finds the connection on this descriptor number (tide-fuse-keeper's contract).
constexpr int kKeeperFuseFd = 3;

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Runs the keeper and returns the pid of the process that stays: the keeper forks once, so it is
// not this daemon's child (nothing here has to reap it when its connection ends) and prints the
// pid of the one that stays.
absl::StatusOr<pid_t> SpawnKeeper(const fs::path& binary, const fs::path& mountpoint, int fuse_fd) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return Errno("pipe for tide-fuse-keeper");
  UniqueFd read_end(out[0]), write_end(out[1]);
  // dup2 onto the same number would leave close-on-exec set.
  UniqueFd moved;
  if (fuse_fd == kKeeperFuseFd) {
    moved = UniqueFd(fcntl(fuse_fd, F_DUPFD_CLOEXEC, 10));
    if (!moved.valid()) return Errno("dup /dev/fuse descriptor");
    fuse_fd = moved.get();
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fuse_fd, kKeeperFuseFd);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  // The daemon blocks SIGTERM for sigwait; the keeper must not inherit that, nor any handler.
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::string bin = binary.string(), mnt = mountpoint.string();
  std::vector<char*> argv = {bin.data(), mnt.data(), nullptr};
  char* envp[] = {nullptr};
  pid_t intermediate = 0;
  int rc = posix_spawn(&intermediate, bin.c_str(), &actions, &attr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return absl::InternalError(absl::StrCat("spawn ", bin, ": ", std::strerror(rc)));
  write_end = UniqueFd();
  std::string text;
  char buf[64];
  ssize_t n;
  while ((n = read(read_end.get(), buf, sizeof(buf))) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > 32) break;
  }
  int status = 0;
  while (waitpid(intermediate, &status, 0) < 0 && errno == EINTR) {
  }
  pid_t keeper = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &keeper) || keeper <= 0) {
    return absl::InternalError(absl::StrCat(bin, " did not start (exit status ", status, ")"));
  }
  return keeper;
}

}  // namespace

uint64_t ProcessStartTime(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 22) {
      uint64_t ticks = 0;
      return absl::SimpleAtoi(field, &ticks) ? ticks : 0;
    }
  }
  return 0;
}

FuseKeepers::FuseKeepers(fs::path dir, fs::path binary) : dir_(std::move(dir)), binary_(std::move(binary)) {}

fs::path FuseKeepers::RecordPath(const fs::path& mountpoint) const {
  return dir_ / HexEncode(Sha256Of(mountpoint.lexically_normal().string()));
}

absl::Status FuseKeepers::Keep(const fs::path& mountpoint, int fuse_fd) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  fs::permissions(dir_, fs::perms::owner_all, ec);
  auto pid = SpawnKeeper(binary_, mountpoint, fuse_fd);
  if (!pid.ok()) return pid.status();
  const uint64_t start = ProcessStartTime(*pid);
  fs::path record = RecordPath(mountpoint);
  fs::path tmp = record.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << *pid << " " << start << "\n" << mountpoint.lexically_normal().string() << "\n";
    if (!out.flush()) return absl::InternalError(absl::StrCat("cannot write ", tmp.string()));
  }
  fs::rename(tmp, record, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot write ", record.string(), ": ", ec.message()));
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> FuseKeepers::Reclaim(const fs::path& mountpoint) {
  fs::path record = RecordPath(mountpoint);
  std::ifstream in(record);
  pid_t pid = 0;
  uint64_t start = 0;
  std::string recorded;
  if (!(in >> pid >> start) || !std::getline(in >> std::ws, recorded) || pid <= 0 ||
      recorded != mountpoint.lexically_normal().string()) {
    return absl::NotFoundError(absl::StrCat("no FUSE keeper recorded for ", mountpoint.string()));
  }
  // The pidfd pins the process: checked after opening it, the start time cannot belong to another.
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid() || ProcessStartTime(pid) != start) {
    return absl::NotFoundError(
        absl::StrCat("the FUSE keeper of ", mountpoint.string(), " (pid ", pid, ") is gone"));
  }
  UniqueFd fd(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), kKeeperFuseFd, 0)));
  if (!fd.valid()) {
    return absl::NotFoundError(absl::StrCat("cannot take the connection of ", mountpoint.string(),
                                            " from its keeper (pid ", pid, "): ", std::strerror(errno)));
  }
  return fd;
}

void FuseKeepers::Forget(const fs::path& mountpoint) {
  std::error_code ec;
  fs::remove(RecordPath(mountpoint), ec);
}

}  // namespace tide::fuse
