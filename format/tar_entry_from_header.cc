#include "format/tar_entry_from_header.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

namespace tide::format {
namespace {

std::optional<EntryType> MapType(char flag) {
  switch (flag) {
    case '0':
      return EntryType::kRegular;
    case '1':
      return EntryType::kHardlink;
    case '2':
      return EntryType::kSymlink;
    case '3':
      return EntryType::kCharDevice;
    case '4':
      return EntryType::kBlockDevice;
    case '5':
      return EntryType::kDirectory;
    case '6':
      return EntryType::kFifo;
    default:
      return std::nullopt;
  }
}

std::string UnsupportedType(char flag) {
  std::string text = (flag >= 0x21 && flag < 0x7f)
                         ? absl::StrCat("'", std::string(1, flag), "'")
                         : absl::StrCat("0x", absl::Hex(static_cast<unsigned char>(flag)));
  std::string why;
  if (flag == 'S') why = " (GNU sparse file)";
  if (flag == '7') why = " (contiguous file, which containerd does not extract)";
  return absl::StrCat("unsupported entry type ", text, why);
}

bool Fits32(int64_t v) { return v >= 0 && v <= UINT32_MAX; }

}  // namespace

absl::Status EntryFromHeader(const TarHeaderFields& h, TarEntry* e) {
  e->raw_name = h.name;
  char flag = h.typeflag;
  // Old archives mark directories by a trailing slash on a type '\0' entry; Go decides it on the
  // name after PAX and GNU overrides.
  if (flag == '\0') flag = (!h.name.empty() && h.name.back() == '/') ? '5' : '0';
  std::optional<EntryType> type = MapType(flag);
  if (!type) return absl::InvalidArgumentError(UnsupportedType(flag));
  e->type = *type;
  if (e->type == EntryType::kRegular && h.size < 0) return absl::InvalidArgumentError("negative size");
  if (!Fits32(h.uid) || !Fits32(h.gid)) {
    return absl::InvalidArgumentError(absl::StrCat("uid ", h.uid, " or gid ", h.gid, " out of range"));
  }
  bool device = e->type == EntryType::kCharDevice || e->type == EntryType::kBlockDevice;
  if (device && (!Fits32(h.dev_major) || !Fits32(h.dev_minor))) {
    return absl::InvalidArgumentError("device number out of range");
  }
  e->link_target = h.linkname;
  e->mode = static_cast<uint32_t>(h.mode) & 07777;
  e->uid = static_cast<uint32_t>(h.uid);
  e->gid = static_cast<uint32_t>(h.gid);
  e->uname = h.uname;
  e->gname = h.gname;
  // Only regular files carry content; Go's archive/tar ignores the size of the others.
  e->size = e->type == EntryType::kRegular ? static_cast<uint64_t>(h.size) : 0;
  e->mtime_sec = h.mtime_sec;
  e->mtime_nsec = h.mtime_nsec;
  e->dev_major = device ? static_cast<uint32_t>(h.dev_major) : 0;
  e->dev_minor = device ? static_cast<uint32_t>(h.dev_minor) : 0;
  e->xattrs = h.xattrs;
  return absl::OkStatus();
}

}  // namespace tide::format
