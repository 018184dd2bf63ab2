#include "test/integration/layer/tree_compare.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"

namespace tide::layer::testing {
namespace {

namespace fs = std::filesystem;

std::map<std::string, std::string> Xattrs(const fs::path& p) {
  std::map<std::string, std::string> out;
  std::string names(65536, '\0');
  ssize_t n = ::llistxattr(p.c_str(), names.data(), names.size());
  if (n <= 0) return out;
  names.resize(static_cast<size_t>(n));
  for (size_t pos = 0; pos < names.size();) {
    std::string key = names.c_str() + pos;
    pos += key.size() + 1;
    std::string value(65536, '\0');
    ssize_t v = ::lgetxattr(p.c_str(), key.c_str(), value.data(), value.size());
    value.resize(v < 0 ? 0 : static_cast<size_t>(v));
    out[key] = value;
  }
  return out;
}

// Empty string when equal, else a description of the first difference.
std::string CompareContent(const fs::path& a, const fs::path& b) {
  UniqueFd fa(::open(a.c_str(), O_RDONLY | O_CLOEXEC)), fb(::open(b.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fa.valid() || !fb.valid()) return absl::StrCat("cannot open (errno ", errno, ")");
  std::string ba(1 << 20, '\0'), bb(1 << 20, '\0');
  uint64_t offset = 0;
  while (true) {
    ssize_t na = ::read(fa.get(), ba.data(), ba.size());
    ssize_t nb = 0;
    while (nb < na) {  // FUSE may return shorter reads; line b up with a
      ssize_t r = ::read(fb.get(), bb.data() + nb, static_cast<size_t>(na - nb));
      if (r <= 0) break;
      nb += r;
    }
    if (na < 0 || nb < 0) return absl::StrCat("read error at ", offset, " (errno ", errno, ")");
    if (na != nb) return absl::StrCat("length differs at ", offset);
    if (na == 0) {
      char extra;
      return ::read(fb.get(), &extra, 1) == 0 ? "" : absl::StrCat("actual is longer than ", offset);
    }
    if (std::memcmp(ba.data(), bb.data(), static_cast<size_t>(na)) != 0) {
      return absl::StrCat("content differs in [", offset, ", ", offset + static_cast<uint64_t>(na), ")");
    }
    offset += static_cast<uint64_t>(na);
  }
}

std::set<std::string> RelativeEntries(const fs::path& root) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::none, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    out.insert(it->path().lexically_relative(root).string());  // never follow symlinks
  }
  return out;
}

}  // namespace

size_t CountEntries(const fs::path& root) { return RelativeEntries(root).size(); }

std::vector<std::string> CompareTrees(const fs::path& expected, const fs::path& actual,
                                      const CompareOptions& options) {
  std::vector<std::string> diffs;
  std::set<std::string> want = RelativeEntries(expected), got = RelativeEntries(actual);
  for (const auto& p : want) {
    if (!got.contains(p)) diffs.push_back(absl::StrCat("missing: ", p));
  }
  for (const auto& p : got) {
    if (!want.contains(p)) diffs.push_back(absl::StrCat("unexpected: ", p));
  }
  // inode -> (other tree's inode, first path seen), both directions.
  std::map<ino_t, std::pair<ino_t, std::string>> inode_map, reverse_map;
  for (const auto& rel : want) {
    if (!got.contains(rel)) continue;
    fs::path a = expected / rel, b = actual / rel;
    struct stat sa {
    }, sb{};
    if (::lstat(a.c_str(), &sa) != 0 || ::lstat(b.c_str(), &sb) != 0) {
      diffs.push_back(absl::StrCat("lstat failed: ", rel));
      continue;
    }
    auto diff = [&](std::string_view what, auto x, auto y) {
      if (x != y) diffs.push_back(absl::StrCat(rel, ": ", std::string(what), " ", x, " != ", y));
    };
    diff("type", sa.st_mode & S_IFMT, sb.st_mode & S_IFMT);
    diff("mode", sa.st_mode & 07777, sb.st_mode & 07777);
    diff("uid", sa.st_uid, sb.st_uid);
    diff("gid", sa.st_gid, sb.st_gid);
    diff("mtime", sa.st_mtim.tv_sec, sb.st_mtim.tv_sec);
    diff("mtime_nsec", sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec);
    if (!S_ISDIR(sa.st_mode)) diff("size", sa.st_size, sb.st_size);
    if (!S_ISDIR(sa.st_mode) || options.directory_nlink) diff("nlink", sa.st_nlink, sb.st_nlink);
    if (S_ISCHR(sa.st_mode) || S_ISBLK(sa.st_mode)) diff("rdev", sa.st_rdev, sb.st_rdev);
    if (S_ISLNK(sa.st_mode)) diff("link target", fs::read_symlink(a).string(), fs::read_symlink(b).string());
    if (S_ISREG(sa.st_mode)) {
      std::string content = CompareContent(a, b);
      if (!content.empty()) diffs.push_back(absl::StrCat(rel, ": ", content));
    }
    if (options.xattrs && Xattrs(a) != Xattrs(b)) diffs.push_back(absl::StrCat(rel, ": xattrs differ"));
    if (options.inode_links && !S_ISDIR(sa.st_mode)) {
      auto [it, fresh] = inode_map.emplace(sa.st_ino, std::pair{sb.st_ino, rel});
      auto [rit, rfresh] = reverse_map.emplace(sb.st_ino, std::pair{sa.st_ino, rel});
      if (it->second.first != sb.st_ino) {
        diffs.push_back(
            absl::StrCat(rel, ": a hard link of ", it->second.second, " in expected, not in actual"));
      } else if (rit->second.first != sa.st_ino) {
        diffs.push_back(absl::StrCat(rel, ": shares an inode with ", rit->second.second, " in actual only"));
      }
    }
  }
  return diffs;
}

}  // namespace tide::layer::testing
