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

absl::Status WriteFileAtomically(const std::filesystem::path& path, std::string_view data) {
  std::string tmpl = (path.parent_path() / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  UniqueFd fd(mkostemp(tmpl.data(), O_CLOEXEC));
  if (!fd.valid())
    return absl::InternalError(absl::StrCat("create temp for ", path.string(), ": ", std::strerror(errno)));
  auto fail = [&](std::string_view what) {
    absl::Status s = absl::InternalError(absl::StrCat(Sv(what), " ", tmpl, ": ", std::strerror(errno)));
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
  fd.reset();
  if (::rename(tmpl.c_str(), path.c_str()) != 0) return fail("rename");
  return absl::OkStatus();
}

}  // namespace tide
