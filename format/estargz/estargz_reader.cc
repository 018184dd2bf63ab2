#include "format/estargz/estargz_reader.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "format/estargz/estargz_footer.h"
#include "format/estargz/stargz_toc_index.h"
#include "format/gzip_inflate.h"
#include "format/tar_header.h"
#include "format/tar_path.h"
#include "format/zstd_chunked/zstd_chunked_footer.h"
#include "format/zstd_chunked/zstd_chunked_reader.h"

namespace tide::format {
namespace {

constexpr std::string_view kTocTarName = "stargz.index.json";

}  // namespace

absl::StatusOr<std::string> EstargzTocJson(std::string_view toc_member, const IndexLimits& limits) {
  // The tar is one header, the JSON and padding; bound it like the JSON itself.
  TIDE_ASSIGN_OR_RETURN(std::string tar,
                        InflateGzipMember(toc_member, limits.max_memory / 8 + 2 * kTarBlockSize));
  if (tar.size() < kTarBlockSize || !TarChecksumOk(tar.data()))
    return absl::InvalidArgumentError("eStargz TOC member does not start with a tar header");
  const char* header = tar.data();
  if (NormalizeTarPath(TarString(header, kTarName)).value_or("") != kTocTarName)
    return absl::InvalidArgumentError("eStargz TOC member does not hold stargz.index.json");
  TIDE_ASSIGN_OR_RETURN(int64_t size, TarNumber(header, kTarSize, "size"));
  if (size < 0 || static_cast<uint64_t>(size) > tar.size() - kTarBlockSize)
    return absl::InvalidArgumentError("eStargz TOC is cut short");
  return tar.substr(kTarBlockSize, static_cast<size_t>(size));
}

absl::StatusOr<LayerIndex> LoadEstargzIndex(RangeReader& blob, uint64_t blob_size, const Digest& toc_digest,
                                            const IndexLimits& limits) {
  if (toc_digest.empty()) return absl::FailedPreconditionError("eStargz layer has no TOC digest");
  if (blob_size < kEstargzFooterSize)
    return absl::InvalidArgumentError("blob too small for an eStargz footer");
  std::string footer;
  TIDE_RETURN_IF_ERROR(blob.ReadAt(blob_size - kEstargzFooterSize, kEstargzFooterSize, &footer));
  return LoadEstargzIndexFromFooter(blob, blob_size, footer, toc_digest, limits);
}

namespace {

absl::StatusOr<StargzToc> ReadEstargzToc(RangeReader& blob, uint64_t blob_size, std::string_view footer,
                                         const Digest& toc_digest, const IndexLimits& limits) {
  if (toc_digest.empty()) return absl::FailedPreconditionError("eStargz layer has no TOC digest");
  TIDE_ASSIGN_OR_RETURN(uint64_t toc_offset, ParseEstargzFooter(footer, blob_size));
  const uint64_t member_size = blob_size - kEstargzFooterSize - toc_offset;
  if (member_size > kMaxIndexFrameSize) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "eStargz TOC member of ", member_size, " bytes exceeds the ", kMaxIndexFrameSize, "-byte limit"));
  }
  std::string member;
  TIDE_RETURN_IF_ERROR(blob.ReadAt(toc_offset, static_cast<size_t>(member_size), &member));
  TIDE_ASSIGN_OR_RETURN(std::string json, EstargzTocJson(member, limits));
  if (Digest::Of(json) != toc_digest) {
    return absl::DataLossError(absl::StrCat("eStargz TOC hashes to ", Digest::Of(json).str(),
                                            ", not to the annotated ", toc_digest.str()));
  }
  return StargzToc{.json = std::move(json), .toc_offset = toc_offset, .format = LayerFormat::kEstargz};
}

}  // namespace

absl::StatusOr<LayerIndex> LoadEstargzIndexFromFooter(RangeReader& blob, uint64_t blob_size,
                                                      std::string_view footer, const Digest& toc_digest,
                                                      const IndexLimits& limits) {
  TIDE_ASSIGN_OR_RETURN(StargzToc toc, ReadEstargzToc(blob, blob_size, footer, toc_digest, limits));
  return IndexFromStargzToc(toc.json, toc.toc_offset, toc.format, limits);
}

absl::StatusOr<LayerIndex> LoadStargzTocLayerIndex(RangeReader& blob, uint64_t blob_size,
                                                   const Digest& toc_digest, const IndexLimits& limits) {
  TIDE_ASSIGN_OR_RETURN(StargzToc toc, ReadStargzToc(blob, blob_size, toc_digest, limits));
  return IndexFromStargzToc(toc.json, toc.toc_offset, toc.format, limits);
}

absl::StatusOr<StargzToc> ReadStargzToc(RangeReader& blob, uint64_t blob_size, const Digest& toc_digest,
                                        const IndexLimits& limits) {
  if (toc_digest.empty()) return absl::FailedPreconditionError("layer has no stargz TOC digest");
  if (blob_size < kEstargzFooterSize) return absl::InvalidArgumentError("blob too small for a stargz footer");
  std::string tail;
  TIDE_RETURN_IF_ERROR(blob.ReadAt(blob_size - kEstargzFooterSize, kEstargzFooterSize, &tail));
  if (IsZstdChunkedTail(tail)) {
    return ReadZstdChunkedToc(blob, blob_size,
                              std::string_view(tail).substr(kEstargzFooterSize - kZstdChunkedTailSize),
                              toc_digest, limits);
  }
  return ReadEstargzToc(blob, blob_size, tail, toc_digest, limits);
}

}  // namespace tide::format
