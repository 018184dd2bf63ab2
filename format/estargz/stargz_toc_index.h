#ifndef TIDE_FORMAT_ESTARGZ_STARGZ_TOC_INDEX_H_
#define TIDE_FORMAT_ESTARGZ_STARGZ_TOC_INDEX_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "format/index_limits.h"
#include "format/layer_index.h"

namespace tide::format {

// Builds the in-memory index of a layer from its stargz JSON TOC ("stargz.index.json": version 1,
// one entry per tar entry, regular files split into "chunk" entries that each start a compression
// member at `offset`). Every name, size, offset and digest is checked before use:
// - names are normalized like tar names (no "..", no absolute paths);
// - a file's chunks follow it, in order, and add up to its size; each is at most kMaxChunkSize;
// - chunk offsets grow strictly and end before `toc_offset`, so chunks tile the blob from the
//   first chunk to the TOC; each chunk's compressed range ends where the next one begins;
// - every chunk has a sha256 chunkDigest; a chunk sharing a member with others (innerOffset) is
//   refused (Unimplemented), as are unknown entry types.
// The files before ".prefetch.landmark" become the startup set. The TOC names no diff_id.
// `toc_json` must already be verified against the digest the manifest commits to.
absl::StatusOr<LayerIndex> IndexFromStargzToc(std::string_view toc_json, uint64_t toc_offset,
                                              LayerFormat format, const IndexLimits& limits = {});

// A stargz JSON TOC read out of its blob and verified against the digest the manifest commits to:
// what IndexFromStargzToc needs, and what a restart needs to build the index again without the blob.
struct StargzToc {
  std::string json;
  uint64_t toc_offset = 0;  // where the chunks end (IndexFromStargzToc's `toc_offset`)
  LayerFormat format = LayerFormat::kEstargz;
};

}  // namespace tide::format

#endif  // TIDE_FORMAT_ESTARGZ_STARGZ_TOC_INDEX_H_
