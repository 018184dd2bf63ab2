#include "format/tar_header_fields.h"

#include <cstring>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "format/tar_header.h"

namespace tide::format {
namespace {

std::optional<EntryType> MapType(char flag, std::string_view name) {
  switch (flag) {
    case '0':
    case '7':
      return EntryType::kRegular;
    case '\0':
      return absl::EndsWith(Sv(name), "/") ? EntryType::kDirectory : EntryType::kRegular;
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

std::string TypeflagText(char flag) {
  if (flag >= 0x21 && flag < 0x7f) return absl::StrCat("'", std::string(1, flag), "'");
  return absl::StrCat("0x", absl::Hex(static_cast<unsigned char>(flag)));
}

void DecodeNames(const char* block, const TarExtensions& ext, TarEntry* e) {
  std::string_view name = TarString(block, kTarName);
  e->raw_name = std::string(name);
  std::string_view prefix = TarString(block, kTarPrefix);
  bool posix = std::memcmp(block + kTarMagic.offset, "ustar\0", 6) == 0;
  if (posix && !prefix.empty()) e->raw_name = absl::StrCat(Sv(prefix), "/", Sv(name));
  if (ext.gnu_long_name) e->raw_name = *ext.gnu_long_name;
  e->link_target = std::string(TarString(block, kTarLinkname));
  if (ext.gnu_long_link) e->link_target = *ext.gnu_long_link;
  if (!TarString(block, kTarMagic).empty()) {
    e->uname = std::string(TarString(block, kTarUname));
    e->gname = std::string(TarString(block, kTarGname));
  }
}

absl::Status DecodeNumbers(const char* block, TarEntry* e) {
  TIDE_ASSIGN_OR_RETURN(int64_t mode, TarNumber(block, kTarMode, "mode"));
  TIDE_ASSIGN_OR_RETURN(int64_t uid, TarNumber(block, kTarUid, "uid"));
  TIDE_ASSIGN_OR_RETURN(int64_t gid, TarNumber(block, kTarGid, "gid"));
  TIDE_ASSIGN_OR_RETURN(int64_t size, TarNumber(block, kTarSize, "size"));
  TIDE_ASSIGN_OR_RETURN(e->mtime_sec, TarNumber(block, kTarMtime, "mtime"));
  if (uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX || size < 0) {
    return absl::InvalidArgumentError("uid, gid or size out of range");
  }
  e->mode = static_cast<uint32_t>(mode) & 07777;
  e->uid = static_cast<uint32_t>(uid);
  e->gid = static_cast<uint32_t>(gid);
  e->size = static_cast<uint64_t>(size);
  return absl::OkStatus();
}

absl::Status DecodeDevice(const char* block, TarEntry* e) {
  TIDE_ASSIGN_OR_RETURN(int64_t major, TarNumber(block, kTarDevMajor, "devmajor"));
  TIDE_ASSIGN_OR_RETURN(int64_t minor, TarNumber(block, kTarDevMinor, "devminor"));
  if (major < 0 || major > UINT32_MAX || minor < 0 || minor > UINT32_MAX) {
    return absl::InvalidArgumentError("device number out of range");
  }
  e->dev_major = static_cast<uint32_t>(major);
  e->dev_minor = static_cast<uint32_t>(minor);
  return absl::OkStatus();
}

}  // namespace

absl::Status DecodeHeaderFields(const char* block, const TarExtensions& ext, TarEntry* e) {
  DecodeNames(block, ext, e);
  TIDE_RETURN_IF_ERROR(DecodeNumbers(block, e));
  char flag = block[kTarTypeflag];
  std::optional<EntryType> type = MapType(flag, e->raw_name);
  if (!type) return absl::InvalidArgumentError(absl::StrCat("unsupported entry type ", TypeflagText(flag)));
  e->type = *type;
  if (e->type == EntryType::kCharDevice || e->type == EntryType::kBlockDevice) {
    TIDE_RETURN_IF_ERROR(DecodeDevice(block, e));
  }
  return absl::OkStatus();
}

}  // namespace tide::format
