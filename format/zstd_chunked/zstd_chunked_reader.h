#ifndef TIDE_FORMAT_ZSTD_CHUNKED_ZSTD_CHUNKED_READER_H_
#define TIDE_FORMAT_ZSTD_CHUNKED_ZSTD_CHUNKED_READER_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "format/byte_io.h"
#include "format/estargz/stargz_toc_index.h"
#include "format/index_limits.h"
#include "format/layer_index.h"

namespace tide::format {

// Loads a zstd:chunked layer's index (stargz-snapshotter's writer: one zstd frame per chunk, the
// stargz JSON TOC zstd-compressed in a skippable frame, the footer in another), given the blob's
// last 48 bytes. The TOC JSON must hash to `toc_digest` (the layer's stargz toc.digest annotation)
// before anything in it is used.
absl::StatusOr<LayerIndex> LoadZstdChunkedIndex(RangeReader& blob, uint64_t blob_size, std::string_view tail,
                                                const Digest& toc_digest, const IndexLimits& limits = {});
// The verified TOC alone.
absl::StatusOr<StargzToc> ReadZstdChunkedToc(RangeReader& blob, uint64_t blob_size, std::string_view tail,
                                             const Digest& toc_digest, const IndexLimits& limits = {});

}  // namespace tide::format

#endif  // TIDE_FORMAT_ZSTD_CHUNKED_ZSTD_CHUNKED_READER_H_
