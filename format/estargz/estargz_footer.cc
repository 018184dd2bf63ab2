#include "format/estargz/estargz_footer.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tide::format {
namespace {

// The footer is a stored (uncompressed) gzip member: a 10-byte header with FEXTRA, XLEN = 26, one
// extra subfield "SG" of 22 bytes ("%016x" TOC offset + "STARGZ"), an empty stored block and the
// trailer.
constexpr unsigned char kGzipMagic[] = {0x1f, 0x8b, 0x08};
constexpr size_t kXlenPos = 10;
constexpr size_t kSubfieldPos = 12;
constexpr size_t kOffsetPos = 16;
constexpr std::string_view kMagic = "STARGZ";

absl::Status Bad(const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("eStargz footer: ", why));
}

}  // namespace

absl::StatusOr<uint64_t> ParseEstargzFooter(std::string_view footer, uint64_t blob_size) {
  if (footer.size() != kEstargzFooterSize) return Bad(absl::StrCat("is ", footer.size(), " bytes, not 51"));
  auto byte = [&](size_t i) { return static_cast<unsigned char>(footer[i]); };
  if (byte(0) != kGzipMagic[0] || byte(1) != kGzipMagic[1] || byte(2) != kGzipMagic[2] ||
      (byte(3) & 0x04) == 0)
    return Bad("not a gzip member with an extra field");
  if (byte(kXlenPos) != 26 || byte(kXlenPos + 1) != 0) return Bad("extra field is not 26 bytes");
  if (footer[kSubfieldPos] != 'S' || footer[kSubfieldPos + 1] != 'G' || byte(kSubfieldPos + 2) != 22 ||
      byte(kSubfieldPos + 3) != 0) {
    return Bad("no SG subfield of 22 bytes");
  }
  if (footer.substr(kOffsetPos + 16, kMagic.size()) != kMagic) return Bad("no STARGZ magic");
  uint64_t offset = 0;
  std::string_view hex = footer.substr(kOffsetPos, 16);
  for (char c : hex) {
    int digit = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (digit < 0) return Bad("TOC offset is not lowercase hex");
    offset = offset << 4 | static_cast<uint64_t>(digit);
  }
  if (blob_size < kEstargzFooterSize || offset >= blob_size - kEstargzFooterSize)
    return Bad(absl::StrCat("TOC offset ", offset, " is not inside the ", blob_size, "-byte blob"));
  return offset;
}

}  // namespace tide::format
