#ifndef TIDE_LAYER_STARGZ_TOC_CACHE_H_
#define TIDE_LAYER_STARGZ_TOC_CACHE_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cache/chunk_cache.h"
#include "common/digest.h"
#include "format/index_limits.h"
#include "format/layer_index.h"

namespace tide::layer {

// Where Mount found a stargz-TOC layer's (eStargz or zstd:chunked) TOC. With it, and the verified
// TOC JSON kept in the chunk cache under the TOC digest, a restart builds the layer's index again
// without asking the registry: a running container's layer comes back while the registry is away.
struct KeptStargzToc {
  format::LayerFormat format = format::LayerFormat::kEstargz;  // kEstargz or kZstdChunked
  uint64_t toc_offset = 0;                                     // where the layer's chunks end
};

// Keeps the TOC JSON, already verified against `toc_digest`, in the cache.
absl::Status KeepStargzToc(cache::ChunkCache& cache, const Digest& toc_digest, std::string_view json);

// The index from the kept TOC: NotFound when it is not cached (never kept, evicted, or found corrupt
// by the cache). The JSON is hashed against `toc_digest` again before use.
absl::StatusOr<format::LayerIndex> LoadKeptStargzToc(cache::ChunkCache& cache, const Digest& toc_digest,
                                                     const KeptStargzToc& kept,
                                                     const format::IndexLimits& limits = {});

}  // namespace tide::layer

#endif  // TIDE_LAYER_STARGZ_TOC_CACHE_H_
