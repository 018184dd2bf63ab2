#include "common/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide {
namespace {

namespace fs = std::filesystem;

absl::Status ErrnoError(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// The pid the holder wrote into the lock file, for the message only: 0 when unreadable.
long HolderPid(int fd) {
  char buf[32];
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return 0;
  long pid = 0;
  auto [end, ec] = std::from_chars(buf, buf + n, pid);
  return ec == std::errc() ? pid : 0;
}

void RecordHolder(int fd) {
  std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) != 0) return;
  [[maybe_unused]] ssize_t written = ::pwrite(fd, pid.data(), pid.size(), 0);
}

}  // namespace

absl::StatusOr<DirLock> DirLock::Acquire(const fs::path& root, std::string_view what,
                                         std::string_view holder) {
  // Only the directory itself and the lock file are made before the lock is held: neither belongs
  // to a holder that may already be using it.
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", root.string(), ": ", ec.message()));
  fs::path path = root / "lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return ErrnoError(absl::StrCat("open ", path.string()));
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return ErrnoError(absl::StrCat("lock ", path.string()));
    long pid = HolderPid(fd.get());
    return absl::FailedPreconditionError(absl::StrCat(Sv(what), " ", root.string(), " is in use by ",
                                                      Sv(holder),
                                                      pid > 0 ? absl::StrCat(" (pid ", pid, ")") : ""));
  }
  fs::permissions(root, fs::perms::owner_all, ec);
  RecordHolder(fd.get());
  return DirLock(root, std::move(fd));
}

}  // namespace tide
