#include "common/digest.h"

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide {

absl::StatusOr<Digest> Digest::Parse(std::string_view text) {
  constexpr std::string_view kPrefix = "sha256:";
  if (text.substr(0, kPrefix.size()) != kPrefix) {
    return absl::InvalidArgumentError(
        absl::StrCat("digest \"", Sv(text), "\": only sha256 digests are supported"));
  }
  std::string_view hex = text.substr(kPrefix.size());
  if (hex.size() != 64) {
    return absl::InvalidArgumentError(absl::StrCat("digest \"", Sv(text), "\": want 64 hex digits"));
  }
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return absl::InvalidArgumentError(absl::StrCat("digest \"", Sv(text), "\": not lowercase hex"));
    }
  }
  return Digest(std::string(text));
}

Digest Digest::FromSha256(const Sha256Bytes& bytes) {
  return Digest(absl::StrCat("sha256:", HexEncode(bytes)));
}

Sha256Bytes Digest::bytes() const {
  Sha256Bytes out{};
  ParseSha256Hex(hex(), &out);  // Parse checked the 64 lowercase hex digits
  return out;
}

}  // namespace tide
