#include "layer/xattr_shadow.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "common/unique_fd.h"

namespace tide::layer {
namespace {

namespace stdfs = std::filesystem;
using format::EntryId;
using format::EntryType;

constexpr char kShadowName[] = "xattr-shadow";
constexpr char kTmpName[] = ".xattr-shadow.tmp";
constexpr char kAbove[] = "above";
constexpr char kBelow[] = "below";
constexpr char kOpaqueXattr[] = "trusted.overlay.opaque";
constexpr size_t kCopyBuffer = 1 << 20;
// Deeper than any path the index accepts; bounds the walk up a corrupt parent chain.
constexpr size_t kMaxDepth = 4096;

absl::Status ErrnoStatus(std::string_view what, const stdfs::path& path) {
  return absl::InternalError(absl::StrCat(Sv(what), " ", path.string(), ": ", std::strerror(errno)));
}

absl::Status Refuse(const format::LayerIndex& index, EntryId id, std::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat("/", Sv(index.path(id)), ": ", Sv(why)));
}

// The names a shadow may set: they mean the same on any local filesystem, and none of them steers
// overlayfs (trusted.overlay.* would) or another security module.
bool CopiedName(std::string_view key) {
  return key.starts_with("user.") || key == "security.capability" || key == "system.posix_acl_access" ||
         key == "system.posix_acl_default";
}

bool SafeName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos;
}

// An entry that holds its inode's xattrs and is part of the tree (not a name a later entry replaced).
bool OwnsInode(const format::LayerIndex& index, EntryId id) {
  return (id == 0 || index.parent(id) != format::kNoEntry) && index.Resolve(id) == id;
}

absl::StatusOr<std::vector<EntryId>> EntriesWithXattrs(const fuse::LayerFs& fs,
                                                       const XattrShadowLimits& limits) {
  const format::LayerIndex& index = fs.index();
  std::vector<EntryId> out;
  if (!index.has_xattrs()) return out;
  const size_t opaque = fs.view().opaque_dirs().size();
  uint64_t file_bytes = 0;
  for (EntryId id = 0; id < index.entry_count(); ++id) {
    if (index.xattrs(id).empty() || !OwnsInode(index, id)) continue;
    if (out.size() + opaque >= limits.max_entries)
      return absl::FailedPreconditionError(
          absl::StrCat("more than ", limits.max_entries, " entries with xattrs"));
    const format::EntryAttr& a = index.attr(id);
    if (fs.view().IsWhiteout(id)) return Refuse(index, id, "a whiteout with xattrs");
    if (a.type == EntryType::kRegular) {
      file_bytes += a.size;
      if (file_bytes > limits.max_file_bytes)
        return Refuse(index, id,
                      absl::StrCat("files with xattrs hold over ", limits.max_file_bytes, " bytes"));
    } else if (a.type != EntryType::kDirectory) {
      return Refuse(index, id, absl::StrCat("xattrs on a ", Sv(format::EntryTypeName(a.type))));
    }
    for (const format::Xattr& x : index.xattrs(id)) {
      if (!CopiedName(x.key)) return Refuse(index, id, absl::StrCat("xattr ", Sv(x.key), " is not copied"));
    }
    out.push_back(id);
  }
  return out;
}

// The other names (hardlink entries) of the files among `entries` with more than one link.
std::vector<EntryId> HardlinksTo(const format::LayerIndex& index, const std::vector<EntryId>& entries) {
  absl::flat_hash_set<EntryId> linked;
  for (EntryId id : entries) {
    if (index.type(id) == EntryType::kRegular && index.attr(id).nlink > 1) linked.insert(id);
  }
  std::vector<EntryId> names;
  if (linked.empty()) return names;
  for (EntryId id = 1; id < index.entry_count(); ++id) {
    if (index.parent(id) != format::kNoEntry && index.Resolve(id) != id && linked.contains(index.Resolve(id)))
      names.push_back(id);
  }
  return names;
}

// Directories and files of one shadow part, created under `root` as the layer has them.
class ShadowTree {
 public:
  ShadowTree(fuse::LayerFs& fs, stdfs::path root) : fs_(fs), index_(fs.index()) {
    made_[0] = std::move(root);
    order_.push_back(0);
  }

  // The shadow path of directory `id`, created with its parents.
  absl::StatusOr<stdfs::path> Dir(EntryId id) {
    std::vector<EntryId> chain;
    for (EntryId at = id; !made_.contains(at); at = index_.parent(at)) {
      if (at == format::kNoEntry || chain.size() > kMaxDepth)
        return absl::DataLossError(absl::StrCat("entry ", id, " has no path to the root"));
      chain.push_back(at);
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      if (index_.type(*it) != EntryType::kDirectory)
        return Refuse(index_, *it, "a parent that is no directory");
      TIDE_ASSIGN_OR_RETURN(stdfs::path path, PathOf(*it));
      if (::mkdir(path.c_str(), 0700) != 0) return ErrnoStatus("create", path);
      Add(*it, std::move(path));
    }
    return made_.at(id);
  }

  // A copy of regular file `id`, read through the layer (each chunk verified).
  absl::Status CopyFile(EntryId id) {
    TIDE_RETURN_IF_ERROR(Dir(index_.parent(id)).status());
    TIDE_ASSIGN_OR_RETURN(stdfs::path path, PathOf(id));
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) return ErrnoStatus("create", path);
    const uint64_t size = index_.attr(id).size;
    std::unique_ptr<char[]> buffer(new char[std::min<uint64_t>(std::max<uint64_t>(size, 1), kCopyBuffer)]);
    for (uint64_t offset = 0; offset < size;) {
      const size_t want = std::min<uint64_t>(size - offset, kCopyBuffer);
      TIDE_ASSIGN_OR_RETURN(size_t got, fs_.ReadFile(id, offset, {buffer.get(), want}, /*workload=*/false));
      if (got == 0) return Refuse(index_, id, "ends before its size");
      for (size_t done = 0; done < got;) {
        const ssize_t n = ::write(fd.get(), buffer.get() + done, got - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return ErrnoStatus("write", path);
        done += static_cast<size_t>(n);
      }
      offset += got;
    }
    Add(id, std::move(path));
    return absl::OkStatus();
  }

  // Another name for a file already copied: a hardlink within the shadow, as in the layer.
  absl::Status Link(EntryId name) {
    auto target = made_.find(index_.Resolve(name));
    if (target == made_.end()) return absl::InternalError("hardlink before its file");
    TIDE_RETURN_IF_ERROR(Dir(index_.parent(name)).status());
    TIDE_ASSIGN_OR_RETURN(stdfs::path path, PathOf(name));
    if (::link(target->second.c_str(), path.c_str()) != 0) return ErrnoStatus("link", path);
    return absl::OkStatus();
  }

  // Owners, mode and (for `with_xattrs`) xattrs of everything made, then the times, children first
  // (making a child changes its directory's).
  absl::Status Finish(const absl::flat_hash_set<EntryId>& with_xattrs) {
    for (EntryId id : order_) {
      const stdfs::path& path = made_.at(id);
      const struct stat st = fs_.Stat(id);
      // chown first: it clears set-id bits and file capabilities.
      if (::lchown(path.c_str(), st.st_uid, st.st_gid) != 0) return ErrnoStatus("chown", path);
      if (::chmod(path.c_str(), st.st_mode & 07777) != 0) return ErrnoStatus("chmod", path);
      if (!with_xattrs.contains(id)) continue;
      for (const format::Xattr& x : index_.xattrs(id)) {
        const std::string key(x.key);
        if (::lsetxattr(path.c_str(), key.c_str(), x.value.data(), x.value.size(), 0) != 0)
          return ErrnoStatus(absl::StrCat("set ", key, " on"), path);
      }
    }
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
      const stdfs::path& path = made_.at(*it);
      const struct stat st = fs_.Stat(*it);
      const struct timespec times[2] = {st.st_atim, st.st_mtim};
      if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        return ErrnoStatus("set times of", path);
    }
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<stdfs::path> PathOf(EntryId id) const {
    const std::string_view name = index_.name(id);
    if (!SafeName(name)) return Refuse(index_, id, "a name that is no file name");
    auto parent = made_.find(index_.parent(id));
    if (parent == made_.end()) return absl::InternalError("shadow parent made out of order");
    return parent->second / name;
  }
  void Add(EntryId id, stdfs::path path) {
    made_[id] = std::move(path);
    order_.push_back(id);
  }

  fuse::LayerFs& fs_;
  const format::LayerIndex& index_;
  absl::flat_hash_map<EntryId, stdfs::path> made_;
  std::vector<EntryId> order_;  // creation order: parents before children
};

absl::Status WriteAbove(fuse::LayerFs& fs, const stdfs::path& root, const std::vector<EntryId>& entries) {
  if (::mkdir(root.c_str(), 0700) != 0) return ErrnoStatus("create", root);
  ShadowTree tree(fs, root);
  for (EntryId id : entries) {
    if (fs.index().type(id) == EntryType::kDirectory) {
      TIDE_RETURN_IF_ERROR(tree.Dir(id).status());
    } else {
      TIDE_RETURN_IF_ERROR(tree.CopyFile(id));
    }
  }
  // Every name of a linked file: overlayfs would otherwise show the names outside the shadow
  // without the file's xattrs.
  for (EntryId name : HardlinksTo(fs.index(), entries)) TIDE_RETURN_IF_ERROR(tree.Link(name));
  return tree.Finish(absl::flat_hash_set<EntryId>(entries.begin(), entries.end()));
}

absl::Status WriteBelow(fuse::LayerFs& fs, const stdfs::path& root) {
  if (::mkdir(root.c_str(), 0700) != 0) return ErrnoStatus("create", root);
  ShadowTree tree(fs, root);
  for (EntryId id : fs.view().opaque_dirs()) {
    TIDE_ASSIGN_OR_RETURN(stdfs::path path, tree.Dir(id));
    if (::lsetxattr(path.c_str(), kOpaqueXattr, "y", 1, 0) != 0) return ErrnoStatus("mark opaque", path);
  }
  return tree.Finish({});
}

}  // namespace

absl::Status CheckShadowable(const fuse::LayerFs& fs, const XattrShadowLimits& limits) {
  return EntriesWithXattrs(fs, limits).status();
}

absl::Status BuildXattrShadow(fuse::LayerFs& fs, const stdfs::path& dir, const XattrShadowLimits& limits) {
  TIDE_ASSIGN_OR_RETURN(std::vector<EntryId> entries, EntriesWithXattrs(fs, limits));
  const bool opaque = fs.view().any_opaque();
  if (entries.empty() && !opaque) return absl::FailedPreconditionError("the layer has no xattrs");
  const stdfs::path tmp = dir / kTmpName;
  const stdfs::path done = dir / kShadowName;
  RemoveXattrShadow(dir);
  absl::Status st;
  std::error_code ec;
  if (::mkdir(tmp.c_str(), 0700) != 0) st = ErrnoStatus("create", tmp);
  if (st.ok() && !entries.empty()) st = WriteAbove(fs, tmp / kAbove, entries);
  if (st.ok() && opaque) st = WriteBelow(fs, tmp / kBelow);
  if (st.ok() && ::rename(tmp.c_str(), done.c_str()) != 0) st = ErrnoStatus("rename into place", done);
  if (!st.ok()) stdfs::remove_all(tmp, ec);
  return st;
}

bool HasXattrShadow(const stdfs::path& dir) {
  std::error_code ec;
  return stdfs::is_directory(dir / kShadowName, ec);
}

void RemoveXattrShadow(const stdfs::path& dir) {
  std::error_code ec;
  stdfs::remove_all(dir / kTmpName, ec);
  stdfs::remove_all(dir / kShadowName, ec);
}

std::vector<stdfs::path> ShadowedLowerDirs(const stdfs::path& mountpoint) {
  const stdfs::path shadow = mountpoint.parent_path() / kShadowName;
  std::vector<stdfs::path> dirs;
  std::error_code ec;
  if (stdfs::is_directory(shadow / kAbove, ec)) dirs.push_back(shadow / kAbove);
  dirs.push_back(mountpoint);
  if (stdfs::is_directory(shadow / kBelow, ec)) dirs.push_back(shadow / kBelow);
  return dirs;
}

}  // namespace tide::layer
