#include "format/footer.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "format/le_bytes.h"

namespace tide::format {
namespace {
constexpr char kFooterMagic[8] = {'T', 'I', 'D', 'E', 'F', 'O', 'O', 'T'};
constexpr uint32_t kFooterPayloadSize = kFooterSize - 8;
}  // namespace

std::string EncodeFooter(const Footer& footer) {
  std::string out;
  out.reserve(kFooterSize);
  PutLe32(&out, kFooterFrameMagic);
  PutLe32(&out, kFooterPayloadSize);
  out.append(kFooterMagic, sizeof(kFooterMagic));
  PutLe32(&out, kFooterVersion);
  PutLe32(&out, 0);
  PutLe64(&out, footer.index_offset);
  PutLe64(&out, footer.index_size);
  out.append(reinterpret_cast<const char*>(footer.index_sha256.data()), footer.index_sha256.size());
  return out;
}

absl::StatusOr<Footer> ParseFooter(std::string_view bytes, uint64_t blob_size) {
  if (bytes.size() != kFooterSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("tide footer must be ", kFooterSize, " bytes, got ", bytes.size()));
  }
  const char* p = bytes.data();
  if (GetLe32(p) != kFooterFrameMagic || GetLe32(p + 4) != kFooterPayloadSize ||
      std::memcmp(p + 8, kFooterMagic, sizeof(kFooterMagic)) != 0) {
    return absl::InvalidArgumentError("not a tide layer: footer magic missing");
  }
  uint32_t version = GetLe32(p + 16);
  if (version != kFooterVersion) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported tide footer version ", version));
  }
  if (GetLe32(p + 20) != 0) return absl::InvalidArgumentError("tide footer has unknown flags set");
  Footer f;
  f.index_offset = GetLe64(p + 24);
  f.index_size = GetLe64(p + 32);
  std::memcpy(f.index_sha256.data(), p + 40, 32);
  if (f.index_size < 8 || f.index_size > (uint64_t{1} << 32) + 8 ||
      f.index_offset > UINT64_MAX - f.index_size) {
    return absl::InvalidArgumentError("tide footer: index position out of range");
  }
  if (blob_size != 0 &&
      (blob_size < kFooterSize || f.index_offset + f.index_size > blob_size - kFooterSize)) {
    return absl::InvalidArgumentError(absl::StrCat("tide footer: index ", f.index_offset, "+", f.index_size,
                                                   " lies outside the ", blob_size, "-byte blob"));
  }
  return f;
}

}  // namespace tide::format
