#ifndef TIDE_FORMAT_GZIP_INDEX_GZIP_INDEX_BUILDER_H_
#define TIDE_FORMAT_GZIP_INDEX_GZIP_INDEX_BUILDER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "format/byte_io.h"
#include "format/gzip_index/checkpoint_spacing.h"
#include "format/layer_writer.h"

namespace tide::format {

struct GzipIndexOptions {
  CheckpointSpacing spacing;
  int window_zstd_level = 9;
  int index_zstd_level = 19;
  // What a workload reads first, in that order (a profile's startup set): the chunks holding those
  // ranges (whole files where no ranges are given) become the index's startup set. Unknown paths
  // are skipped.
  std::vector<StartupFile> startup_files;
};

struct GzipIndex {
  std::string frame;  // the side index, an index frame as in the tide format (docs/format.md §12)
  Digest diff_id;
  uint64_t blob_size = 0;
  uint64_t tar_size = 0;
  size_t chunks = 0;
  size_t entries = 0;
  size_t startup_chunks = 0;
};

// Reads a whole gzip layer blob once and builds its side index: the tar entry table, one chunk per
// span between inflate checkpoints with the sha256 of its uncompressed bytes, and each checkpoint's
// window. The blob must hash to `layer_digest`, so an index always names the bytes it was made from.
absl::StatusOr<GzipIndex> BuildGzipIndex(ByteSource& blob, const Digest& layer_digest,
                                         const GzipIndexOptions& options = {});

}  // namespace tide::format

#endif  // TIDE_FORMAT_GZIP_INDEX_GZIP_INDEX_BUILDER_H_
