#include "format/tar_header.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide::format {
namespace {

absl::StatusOr<int64_t> Base256(const unsigned char* p, size_t size, std::string_view field_name) {
  // Negative numbers are inverted first, so both signs accumulate as small magnitudes.
  unsigned char invert = (p[0] & 0x40) ? 0xff : 0x00;
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i) {
    unsigned char c = p[i] ^ invert;
    if (i == 0) c &= 0x7f;
    if ((value >> 56) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("base-256 ", Sv(field_name), " overflows"));
    }
    value = (value << 8) | c;
  }
  if ((value >> 63) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("base-256 ", Sv(field_name), " overflows"));
  }
  return invert ? ~static_cast<int64_t>(value) : static_cast<int64_t>(value);
}

bool IsPad(char c) { return c == ' ' || c == '\0'; }

}  // namespace

std::string_view TarString(const char* block, TarField field) {
  const char* begin = block + field.offset;
  const void* nul = std::memchr(begin, '\0', field.size);
  return std::string_view(begin, nul ? static_cast<const char*>(nul) - begin : field.size);
}

absl::StatusOr<int64_t> TarOctal(const char* block, TarField field, std::string_view field_name) {
  std::string_view text(block + field.offset, field.size);
  while (!text.empty() && IsPad(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsPad(text.back())) text.remove_suffix(1);
  text = text.substr(0, text.find('\0'));
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '7') {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid character in octal ", Sv(field_name), " field"));
    }
    if (value >> 61) return absl::InvalidArgumentError(absl::StrCat("octal ", Sv(field_name), " overflows"));
    value = value * 8 + static_cast<uint64_t>(c - '0');
  }
  return static_cast<int64_t>(value);
}

absl::StatusOr<int64_t> TarNumber(const char* block, TarField field, std::string_view field_name) {
  const auto* p = reinterpret_cast<const unsigned char*>(block + field.offset);
  if (p[0] & 0x80) return Base256(p, field.size, field_name);
  return TarOctal(block, field, field_name);
}

bool IsZeroBlock(const char* block) {
  for (size_t i = 0; i < kTarBlockSize; ++i) {
    if (block[i] != 0) return false;
  }
  return true;
}

bool TarChecksumOk(const char* block) {
  auto stored = TarOctal(block, kTarChecksum, "checksum");
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
