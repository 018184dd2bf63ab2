#include "format/tar_header_fields.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "format/tar_header.h"

namespace tide::format {
namespace {

bool FieldIs(const char* block, TarField field, std::string_view value) {
  return std::string_view(block + field.offset, field.size) == value;
}

TarFormat DetectFormat(const char* block) {
  using std::string_view_literals::operator""sv;
  if (FieldIs(block, kTarMagic, "ustar\0"sv)) {
    return FieldIs(block, kStarTrailer, "tar\0"sv) ? TarFormat::kStar : TarFormat::kUstar;
  }
  if (FieldIs(block, kTarMagic, "ustar "sv) && FieldIs(block, kTarVersion, " \0"sv)) return TarFormat::kGnu;
  return TarFormat::kV7;
}

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// GNU headers keep atime and ctime where ustar has its prefix. Go reads them only if they parse;
// otherwise (archives from Go writers before 1.8) it takes the field for an ASCII ustar prefix.
std::string_view GnuPrefix(const char* block) {
  bool times_ok = true;
  for (TarField f : {kGnuAtime, kGnuCtime}) {
    if (block[f.offset] != '\0' && !TarNumber(block, f, "time").ok()) times_ok = false;
  }
  if (times_ok) return {};
  std::string_view prefix = TarString(block, kTarPrefix);
  return IsAscii(prefix) ? prefix : std::string_view();
}

absl::StatusOr<std::string_view> Prefix(const char* block, TarFormat format) {
  switch (format) {
    case TarFormat::kUstar:
      return TarString(block, kTarPrefix);
    case TarFormat::kStar:
      TIDE_RETURN_IF_ERROR(TarNumber(block, kStarAtime, "atime").status());
      TIDE_RETURN_IF_ERROR(TarNumber(block, kStarCtime, "ctime").status());
      return TarString(block, kStarPrefix);
    case TarFormat::kGnu:
      return GnuPrefix(block);
    case TarFormat::kV7:
      break;
  }
  return std::string_view();
}

absl::Status ParseNumbers(const char* block, TarHeaderFields* h) {
  TIDE_ASSIGN_OR_RETURN(h->size, TarNumber(block, kTarSize, "size"));
  TIDE_ASSIGN_OR_RETURN(h->mode, TarNumber(block, kTarMode, "mode"));
  TIDE_ASSIGN_OR_RETURN(h->uid, TarNumber(block, kTarUid, "uid"));
  TIDE_ASSIGN_OR_RETURN(h->gid, TarNumber(block, kTarGid, "gid"));
  TIDE_ASSIGN_OR_RETURN(h->mtime_sec, TarNumber(block, kTarMtime, "mtime"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TarHeaderFields> ParseHeaderFields(const char* block) {
  TarHeaderFields h;
  h.typeflag = block[kTarTypeflag];
  h.format = DetectFormat(block);
  h.name = std::string(TarString(block, kTarName));
  h.linkname = std::string(TarString(block, kTarLinkname));
  TIDE_RETURN_IF_ERROR(ParseNumbers(block, &h));
  if (h.format == TarFormat::kV7) return h;
  h.uname = std::string(TarString(block, kTarUname));
  h.gname = std::string(TarString(block, kTarGname));
  TIDE_ASSIGN_OR_RETURN(h.dev_major, TarNumber(block, kTarDevMajor, "devmajor"));
  TIDE_ASSIGN_OR_RETURN(h.dev_minor, TarNumber(block, kTarDevMinor, "devminor"));
  TIDE_ASSIGN_OR_RETURN(std::string_view prefix, Prefix(block, h.format));
  if (!prefix.empty()) h.name = absl::StrCat(Sv(prefix), "/", h.name);
  return h;
}

bool IsHeaderOnlyTypeflag(char typeflag) { return typeflag >= '1' && typeflag <= '6'; }

}  // namespace tide::format
