#ifndef TIDE_FORMAT_GZIP_INDEX_CHECKPOINT_SPACING_H_
#define TIDE_FORMAT_GZIP_INDEX_CHECKPOINT_SPACING_H_

#include <cstdint>

namespace tide::format {

// Where a gzip side index puts its inflate checkpoints (docs/format.md §12).
struct CheckpointSpacing {
  // A checkpoint goes at the first deflate block boundary after this many compressed bytes...
  uint64_t compressed_bytes = 1 << 20;
  // ...once the span holds at least this many uncompressed bytes: a window costs about 32 KiB over
  // the span's uncompressed size of the index, so 2 MiB keeps windows near 1.5% of the layer even
  // where the data does not compress (model weights)...
  uint64_t min_uncompressed_bytes = 2 << 20;
  // ...or at the first boundary after this many uncompressed bytes, so that well-compressing data
  // does not make spans that take long to inflate.
  uint64_t uncompressed_bytes = 8 << 20;
};

}  // namespace tide::format

#endif  // TIDE_FORMAT_GZIP_INDEX_CHECKPOINT_SPACING_H_
