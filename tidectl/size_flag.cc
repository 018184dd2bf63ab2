#include "tidectl/size_flag.h"

#include <cctype>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide::tidectl {

absl::StatusOr<uint64_t> ParseSize(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  uint64_t value = 0;
  if (digits == 0 || !absl::SimpleAtoi(Sv(text.substr(0, digits)), &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("size \"", Sv(text), "\": want a number with optional K/M/G"));
  }
  std::string unit = absl::AsciiStrToLower(Sv(text.substr(digits)));
  uint64_t scale = 1;
  if (unit.empty() || unit == "b") {
    scale = 1;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    scale = 1ull << 10;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    scale = 1ull << 20;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    scale = 1ull << 30;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("size \"", Sv(text), "\": unknown unit \"", unit, "\""));
  }
  if (value > UINT64_MAX / scale)
    return absl::InvalidArgumentError(absl::StrCat("size \"", Sv(text), "\": too large"));
  return value * scale;
}

}  // namespace tide::tidectl
