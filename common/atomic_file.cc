#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"
#include "common/unique_fd.h"

namespace tide {
namespace {

absl::Status ErrnoError(std::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(Sv(what), " ", path, ": ", std::strerror(errno)));
}

}  // namespace

absl::Status SyncDirectory(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError("open directory", dir.string());
  if (::fsync(fd.get()) != 0) return ErrnoError("fsync directory", dir.string());
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::filesystem::path& path, std::string_view data) {
  std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  std::string tmpl = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  UniqueFd fd(mkostemp(tmpl.data(), O_CLOEXEC));
  if (!fd.valid()) return ErrnoError("create temp for", path.string());
  auto fail = [&](std::string_view what) {
    absl::Status s = ErrnoError(what, tmpl);
    ::unlink(tmpl.c_str());
    return s;
  };
  while (!data.empty()) {
    ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write");
    data.remove_prefix(static_cast<size_t>(n));
  }
  if (::fchmod(fd.get(), 0644) != 0 || ::fsync(fd.get()) != 0) return fail("sync");
  // close() may report a deferred write error (NFS); the fd is gone either way.
  if (::close(fd.release()) != 0) return fail("close");
  if (::rename(tmpl.c_str(), path.c_str()) != 0) return fail("rename");
  // Without this the rename itself may be lost in a crash: the file would have the old content or
  // not exist at all although we reported success.
  return SyncDirectory(dir);
}

}  // namespace tide
