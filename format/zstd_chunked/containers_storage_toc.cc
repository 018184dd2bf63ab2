#include "format/zstd_chunked/containers_storage_toc.h"

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "format/estargz/stargz_toc_index.h"
#include "format/zstd_stream.h"

namespace tide::format {
namespace {

// The TOC's skippable frame header: magic and length, 4 bytes each.
constexpr uint64_t kSkippableHeaderSize = 8;
constexpr uint64_t kJsonTocType = 1;

absl::Status BadPosition(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(Sv(kContainersStorageTocPositionAnnotation), " \"",
                                                 Sv(text.substr(0, 200)), "\": ", Sv(why)));
}

}  // namespace

absl::StatusOr<ContainersStorageTocPosition> ParseContainersStorageTocPosition(std::string_view text,
                                                                               uint64_t blob_size) {
  const std::vector<std::string> parts = absl::StrSplit(Sv(text), ':');
  if (parts.size() != 4) return BadPosition(text, "want <offset>:<length>:<uncompressed length>:<type>");
  ContainersStorageTocPosition at;
  uint64_t type = 0;
  if (!absl::SimpleAtoi(parts[0], &at.offset) || !absl::SimpleAtoi(parts[1], &at.size) ||
      !absl::SimpleAtoi(parts[2], &at.uncompressed_size) || !absl::SimpleAtoi(parts[3], &type))
    return BadPosition(text, "a field is not a number");
  if (type != kJsonTocType) return BadPosition(text, absl::StrCat("TOC type ", type, " is not 1 (JSON)"));
  if (at.size == 0 || at.size > kMaxIndexFrameSize)
    return BadPosition(text, absl::StrCat("compressed TOC size outside 1..", kMaxIndexFrameSize));
  if (at.offset < kSkippableHeaderSize) return BadPosition(text, "TOC offset before its frame header");
  if (blob_size != 0 && (at.offset > blob_size || at.size > blob_size - at.offset))
    return BadPosition(text, absl::StrCat("TOC lies outside the ", blob_size, "-byte blob"));
  return at;
}

absl::StatusOr<LayerIndex> LoadContainersStorageToc(std::string_view compressed, uint64_t offset,
                                                    const Digest& checksum, const IndexLimits& limits) {
  if (checksum.empty()) return absl::FailedPreconditionError("zstd:chunked layer has no TOC checksum");
  if (offset < kSkippableHeaderSize)
    return absl::InvalidArgumentError("zstd:chunked TOC offset before its frame");
  if (Digest::Of(compressed) != checksum) {
    return absl::DataLossError(absl::StrCat("zstd:chunked TOC hashes to ", Digest::Of(compressed).str(),
                                            ", not to the annotated ", checksum.str()));
  }
  TIDE_ASSIGN_OR_RETURN(std::string json,
                        DecompressZstdBounded(compressed, static_cast<size_t>(limits.max_memory / 8)));
  // The chunks end where the TOC's skippable frame begins.
  return IndexFromStargzToc(json, offset - kSkippableHeaderSize, LayerFormat::kZstdChunked, limits);
}

}  // namespace tide::format
