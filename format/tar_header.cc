#include "format/tar_header.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide::format {

std::string_view TarString(const char* block, TarField field) {
  const char* begin = block + field.offset;
  const void* nul = std::memchr(begin, '\0', field.size);
  return std::string_view(begin, nul ? static_cast<const char*>(nul) - begin : field.size);
}

absl::StatusOr<int64_t> TarNumber(const char* block, TarField field, std::string_view field_name) {
  const auto* p = reinterpret_cast<const unsigned char*>(block + field.offset);
  if (p[0] & 0x80) {
    // GNU base-256: big-endian two's complement with the marker bit; 0xff first byte is negative.
    bool negative = p[0] == 0xff;
    uint64_t value = negative ? 0xff : (p[0] & 0x7f);
    for (size_t i = 1; i < field.size; ++i) {
      if (!negative && (value >> 55) != 0) {
        return absl::InvalidArgumentError(absl::StrCat("base-256 ", Sv(field_name), " overflows"));
      }
      value = (value << 8) | p[i];
    }
    if (negative) return static_cast<int64_t>(value);  // wraps to the two's complement value
    if (value > static_cast<uint64_t>(INT64_MAX)) {
      return absl::InvalidArgumentError(absl::StrCat("base-256 ", Sv(field_name), " overflows"));
    }
    return static_cast<int64_t>(value);
  }
  size_t i = 0;
  while (i < field.size && (p[i] == ' ' || p[i] == '\0')) ++i;
  uint64_t value = 0;
  size_t digits = 0;
  for (; i < field.size && p[i] >= '0' && p[i] <= '7'; ++i, ++digits) {
    if (value >> 60) return absl::InvalidArgumentError(absl::StrCat("octal ", Sv(field_name), " overflows"));
    value = value * 8 + (p[i] - '0');
  }
  for (; i < field.size; ++i) {
    if (p[i] != ' ' && p[i] != '\0') {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid character in octal ", Sv(field_name), " field"));
    }
  }
  return static_cast<int64_t>(value);
}

bool IsZeroBlock(const char* block) {
  for (size_t i = 0; i < kTarBlockSize; ++i) {
    if (block[i] != 0) return false;
  }
  return true;
}

bool TarChecksumOk(const char* block) {
  auto stored = TarNumber(block, kTarChecksum, "checksum");
  if (!stored.ok()) return false;
  int64_t unsigned_sum = 0;
  int64_t signed_sum = 0;
  for (size_t i = 0; i < kTarBlockSize; ++i) {
    bool in_field = i >= kTarChecksum.offset && i < kTarChecksum.offset + kTarChecksum.size;
    unsigned char c = in_field ? ' ' : static_cast<unsigned char>(block[i]);
    unsigned_sum += c;
    signed_sum += static_cast<signed char>(c);
  }
  return *stored == unsigned_sum || *stored == signed_sum;
}

void SetTarChecksum(char* block) {
  std::memset(block + kTarChecksum.offset, ' ', kTarChecksum.size);
  unsigned sum = 0;
  for (size_t i = 0; i < kTarBlockSize; ++i) sum += static_cast<unsigned char>(block[i]);
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%06o", sum);
  std::memcpy(block + kTarChecksum.offset, buf, 7);  // 6 digits, NUL, then the space stays
}

}  // namespace tide::format
