#ifndef TIDE_FORMAT_GZIP_INDEX_GZIP_INDEX_READER_H_
#define TIDE_FORMAT_GZIP_INDEX_GZIP_INDEX_READER_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "format/index_limits.h"
#include "format/layer_index.h"

namespace tide::format {

// Loads a gzip side index for the layer blob `layer_digest` of `blob_size` bytes. `frame` must
// already be verified against the digest it was fetched by. The index must name that very blob and
// size, and its chunks must tile the blob from the first deflate block to the gzip trailer; every
// table is validated as a tide index is. FailedPrecondition when it describes another blob.
absl::StatusOr<LayerIndex> LoadGzipIndex(std::string_view frame, const Digest& layer_digest,
                                         uint64_t blob_size, const IndexLimits& limits = {});

}  // namespace tide::format

#endif  // TIDE_FORMAT_GZIP_INDEX_GZIP_INDEX_READER_H_
