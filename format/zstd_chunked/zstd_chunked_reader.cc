#include "format/zstd_chunked/zstd_chunked_reader.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "format/estargz/stargz_toc_index.h"
#include "format/zstd_chunked/zstd_chunked_footer.h"
#include "format/zstd_stream.h"

namespace tide::format {

absl::StatusOr<LayerIndex> LoadZstdChunkedIndex(RangeReader& blob, uint64_t blob_size, std::string_view tail,
                                                const Digest& toc_digest, const IndexLimits& limits) {
  TIDE_ASSIGN_OR_RETURN(StargzToc toc, ReadZstdChunkedToc(blob, blob_size, tail, toc_digest, limits));
  return IndexFromStargzToc(toc.json, toc.toc_offset, toc.format, limits);
}

absl::StatusOr<StargzToc> ReadZstdChunkedToc(RangeReader& blob, uint64_t blob_size, std::string_view tail,
                                             const Digest& toc_digest, const IndexLimits& limits) {
  if (toc_digest.empty()) return absl::FailedPreconditionError("zstd:chunked layer has no TOC digest");
  TIDE_ASSIGN_OR_RETURN(ZstdChunkedFooter footer, ParseZstdChunkedFooter(tail, blob_size));
  const uint64_t max_json = limits.max_memory / 8;
  if (footer.toc_raw_size > max_json) {
    return absl::ResourceExhaustedError(absl::StrCat("zstd:chunked TOC of ", footer.toc_raw_size,
                                                     " bytes exceeds the ", max_json, "-byte limit"));
  }
  std::string compressed;
  TIDE_RETURN_IF_ERROR(
      blob.ReadAt(footer.toc_offset, static_cast<size_t>(footer.toc_compressed_size), &compressed));
  TIDE_ASSIGN_OR_RETURN(std::string json, DecompressZstdBounded(compressed, static_cast<size_t>(max_json)));
  if (Digest::Of(json) != toc_digest) {
    return absl::DataLossError(absl::StrCat("zstd:chunked TOC hashes to ", Digest::Of(json).str(),
                                            ", not to the annotated ", toc_digest.str()));
  }
  // The chunks end where the TOC's skippable frame (its 8-byte header first) begins.
  return StargzToc{
      .json = std::move(json), .toc_offset = footer.toc_offset - 8, .format = LayerFormat::kZstdChunked};
}

}  // namespace tide::format
