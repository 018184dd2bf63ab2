#include "format/blob_reader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "format/chunk_decoder.h"
#include "format/footer.h"
#include "format/tar_quote.h"

namespace tide::format {

absl::StatusOr<LayerIndex> LoadIndexAt(RangeReader& blob, uint64_t index_offset, uint64_t index_size,
                                       const Digest& index_digest, const IndexLimits& limits) {
  if (index_size < 8 || index_size > kMaxIndexFrameSize) {
    return absl::InvalidArgumentError(absl::StrCat("tide index size ", index_size, " is out of range"));
  }
  std::string frame;
  TIDE_RETURN_IF_ERROR(blob.ReadAt(index_offset, static_cast<size_t>(index_size), &frame));
  return LayerIndex::Parse(frame, index_digest, limits);
}

absl::StatusOr<LayerIndex> LoadIndexFromFooter(RangeReader& blob, uint64_t blob_size,
                                               const IndexLimits& limits) {
  if (blob_size < kFooterSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("blob of ", blob_size, " bytes is too small for a tide footer"));
  }
  std::string bytes;
  TIDE_RETURN_IF_ERROR(blob.ReadAt(blob_size - kFooterSize, kFooterSize, &bytes));
  TIDE_ASSIGN_OR_RETURN(Footer footer, ParseFooter(bytes, blob_size));
  return LoadIndexAt(blob, footer.index_offset, footer.index_size, Digest::FromSha256(footer.index_sha256),
                     limits);
}

absl::StatusOr<std::string> ReadFileRange(RangeReader& blob, const LayerIndex& index, EntryId file,
                                          uint64_t offset, uint64_t length) {
  if (file >= index.entry_count()) return absl::InvalidArgumentError(absl::StrCat("no entry ", file));
  EntryId target = index.Resolve(file);
  const EntryAttr& attr = index.attr(target);
  if (attr.type != EntryType::kRegular) {
    return absl::InvalidArgumentError(absl::StrCat(QuoteTarText(index.path(file)), " is not a regular file"));
  }
  std::string out;
  if (offset >= attr.size || length == 0) return out;
  length = std::min(length, attr.size - offset);
  out.reserve(static_cast<size_t>(length));
  ChunkRange range = index.ChunksFor(target, offset, length);
  const uint64_t begin = attr.data_offset + offset;
  const uint64_t end = begin + length;
  std::string compressed;
  std::string plain;
  for (uint32_t id = range.first; id < range.first + range.count; ++id) {
    const ChunkInfo& c = index.chunk(id);
    TIDE_RETURN_IF_ERROR(blob.ReadAt(c.compressed_offset, c.compressed_size, &compressed));
    absl::Status st = DecodeIndexChunk(index, id, compressed, &plain);
    if (!st.ok()) {
      return absl::DataLossError(
          absl::StrCat("reading ", QuoteTarText(index.path(file)), ": ", st.message()));
    }
    uint64_t from = std::max(begin, c.uncompressed_offset);
    uint64_t to = std::min(end, c.uncompressed_offset + c.uncompressed_size);
    out.append(plain, static_cast<size_t>(from - c.uncompressed_offset), static_cast<size_t>(to - from));
  }
  if (out.size() != length) {
    return absl::DataLossError(absl::StrCat("reading ", QuoteTarText(index.path(file)), ": chunks cover ",
                                            out.size(), " of ", length, " bytes"));
  }
  return out;
}

}  // namespace tide::format
