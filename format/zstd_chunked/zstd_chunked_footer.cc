#include "format/zstd_chunked/zstd_chunked_footer.h"

#include "absl/strings/str_cat.h"
#include "format/index_limits.h"
#include "format/le_bytes.h"

namespace tide::format {
namespace {

constexpr std::string_view kMagic = "GnUlInUx";
constexpr uint32_t kSkippableFrameMagic = 0x184D2A50;
constexpr uint64_t kManifestTypeCrfs = 1;

absl::Status Bad(const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("zstd:chunked footer: ", why));
}

}  // namespace

bool IsZstdChunkedTail(std::string_view tail) {
  return tail.size() >= kZstdChunkedTailSize && tail.substr(tail.size() - kMagic.size()) == kMagic;
}

absl::StatusOr<ZstdChunkedFooter> ParseZstdChunkedFooter(std::string_view tail, uint64_t blob_size) {
  if (tail.size() != kZstdChunkedTailSize) return Bad(absl::StrCat("is ", tail.size(), " bytes, not 48"));
  if (!IsZstdChunkedTail(tail)) return Bad("no GnUlInUx magic");
  if (GetLe32(tail.data()) != kSkippableFrameMagic || GetLe32(tail.data() + 4) != 40)
    return Bad("not in a 40-byte skippable frame");
  const char* f = tail.data() + 8;
  ZstdChunkedFooter footer;
  footer.toc_offset = GetLe64(f);
  footer.toc_compressed_size = GetLe64(f + 8);
  footer.toc_raw_size = GetLe64(f + 16);
  if (GetLe64(f + 24) != kManifestTypeCrfs) return Bad("manifest type is not the stargz TOC (1)");
  if (blob_size < kZstdChunkedTailSize) return Bad("blob too small");
  const uint64_t tail_start = blob_size - kZstdChunkedTailSize;
  if (footer.toc_offset < 8 || footer.toc_offset > tail_start ||
      footer.toc_compressed_size > tail_start - footer.toc_offset) {
    return Bad(absl::StrCat("TOC ", footer.toc_offset, "+", footer.toc_compressed_size, " is not inside the ",
                            blob_size, "-byte blob"));
  }
  if (footer.toc_compressed_size == 0 || footer.toc_compressed_size > kMaxIndexFrameSize)
    return Bad(absl::StrCat("TOC of ", footer.toc_compressed_size, " compressed bytes"));
  return footer;
}

}  // namespace tide::format
