#ifndef TIDE_FORMAT_TAR_HEADER_H_
#define TIDE_FORMAT_TAR_HEADER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tide::format {

inline constexpr size_t kTarBlockSize = 512;

// Field positions of a header block. The ustar layout; GNU and star headers reuse the first 345
// bytes and lay out the rest differently (kGnu*, kStar*).
struct TarField {
  size_t offset;
  size_t size;
};
inline constexpr TarField kTarName{0, 100};
inline constexpr TarField kTarMode{100, 8};
inline constexpr TarField kTarUid{108, 8};
inline constexpr TarField kTarGid{116, 8};
inline constexpr TarField kTarSize{124, 12};
inline constexpr TarField kTarMtime{136, 12};
inline constexpr TarField kTarChecksum{148, 8};
inline constexpr size_t kTarTypeflag = 156;
inline constexpr TarField kTarLinkname{157, 100};
inline constexpr TarField kTarMagic{257, 6};
inline constexpr TarField kTarVersion{263, 2};
inline constexpr TarField kTarUname{265, 32};
inline constexpr TarField kTarGname{297, 32};
inline constexpr TarField kTarDevMajor{329, 8};
inline constexpr TarField kTarDevMinor{337, 8};
inline constexpr TarField kTarPrefix{345, 155};
inline constexpr TarField kGnuAtime{345, 12};
inline constexpr TarField kGnuCtime{357, 12};
inline constexpr TarField kStarPrefix{345, 131};
inline constexpr TarField kStarAtime{476, 12};
inline constexpr TarField kStarCtime{488, 12};
inline constexpr TarField kStarTrailer{508, 4};

// A NUL-terminated string field (the whole field if it has no NUL).
std::string_view TarString(const char* block, TarField field);
// A numeric field as Go's archive/tar (containerd's reader) reads it: GNU base-256 two's complement
// when the first byte has its high bit set, else octal. Octal fields may be padded with spaces and
// NULs on both sides; anything after the first NUL inside the digits is ignored.
absl::StatusOr<int64_t> TarNumber(const char* block, TarField field, std::string_view field_name);
// An octal-only numeric field (the checksum).
absl::StatusOr<int64_t> TarOctal(const char* block, TarField field, std::string_view field_name);
bool IsZeroBlock(const char* block);
// Whether the stored (octal) checksum matches the unsigned or the historic signed byte sum.
bool TarChecksumOk(const char* block);
// Fills in the checksum field of a header block (for tests and synthetic tars).
void SetTarChecksum(char* block);

}  // namespace tide::format

#endif  // TIDE_FORMAT_TAR_HEADER_H_
