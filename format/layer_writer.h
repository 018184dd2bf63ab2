#ifndef TIDE_FORMAT_LAYER_WRITER_H_
#define TIDE_FORMAT_LAYER_WRITER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "format/annotations.h"
#include "format/byte_io.h"
#include "format/index_limits.h"

namespace tide::format {

// Defaults chosen by measurement (docs/format.md, docs/bench-format.md): 2 MiB chunks keep a /usr
// tree within ~3.5% of plain `zstd -3` while a small read fetches at most a few hundred KiB.
inline constexpr uint32_t kDefaultChunkSize = 2u << 20;
inline constexpr uint32_t kDefaultSmallFileThreshold = 256u << 10;
// Frames of a file with frames of its own are smaller than shared ones: such files are the big
// libraries a start maps and reads in part, and a cold read fetches a whole frame (docs/format.md).
inline constexpr uint32_t kDefaultFileChunkSize = 512u << 10;

// Rank of a startup file whose position in the image-wide access order is not known.
inline constexpr uint32_t kUnknownStartupRank = UINT32_MAX;

// One file of the startup set: its tar path (as in the tar, "./" prefixes are ignored) and optionally
// the byte ranges of it that are read at startup (empty = the whole file).
struct StartupFile {
  struct Range {
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  std::string path;
  std::vector<Range> ranges;
  // Position of the file's first read in the access order of the whole image (all layers; smaller =
  // needed earlier). The index records `startup_ranks` only when every startup file has one.
  uint32_t rank = kUnknownStartupRank;
};

struct LayerWriterOptions {
  // Maximum uncompressed bytes per chunk (frame). Must be in [4 KiB, kMaxChunkSize].
  uint32_t chunk_size = kDefaultChunkSize;
  // Maximum uncompressed bytes per frame of a file with frames of its own, capped at chunk_size.
  // 0: chunk_size. Must otherwise be at least 4 KiB.
  uint32_t file_chunk_size = kDefaultFileChunkSize;
  // Regular files smaller than this share frames with tar headers and other small files instead of
  // getting frames of their own (see docs/format.md). 0 gives every non-empty file its own frames.
  uint32_t small_file_threshold = kDefaultSmallFileThreshold;
  int zstd_level = 3;
  // Compression threads; 0 means one per online CPU.
  int threads = 0;
  // Files to place first, in access order. Paths that are not regular files in the tar are ignored.
  std::vector<StartupFile> startup;
  // Directory for the spool file used when the startup set reorders entries ("" = $TMPDIR or /tmp).
  std::string spool_dir;
  // Called now and then with the number of uncompressed tar bytes consumed so far.
  std::function<void(uint64_t tar_bytes)> progress;
};

struct LayerWriteResult {
  Digest blob_digest;  // sha256 of everything written to the sink
  uint64_t blob_size = 0;
  Digest diff_id;  // sha256 of the uncompressed tar (what `zstd -dc` of the blob yields)
  uint64_t tar_size = 0;
  Digest index_digest;  // sha256 of the index frame [index_offset, index_offset + index_size)
  uint64_t index_offset = 0;
  uint64_t index_size = 0;
  uint64_t entry_count = 0;
  uint64_t chunk_count = 0;
  uint64_t startup_chunk_count = 0;
  // Compressed bytes of the startup chunks: what a startup prefetch fetches.
  uint64_t startup_bytes = 0;
  // The startup ranges themselves: uncompressed bytes, and their compressed size estimated at their
  // chunks' compression ratio (what an ideal, range-exact startup set would fetch).
  uint64_t startup_read_bytes = 0;
  uint64_t startup_read_compressed_bytes = 0;
  uint64_t startup_end_offset = 0;
  // Annotations to set on the layer descriptor (kAnnotation* keys).
  std::map<std::string, std::string> annotations;
};

// Converts a tar stream into a tide layer blob. The blob is a sequence of zstd frames whose
// concatenated decompression equals the input tar byte for byte (unless a startup set reorders
// entries: then it is a valid tar with the startup files first), followed by the index and footer
// in zstd skippable frames. Bad input (truncated or corrupt tar, absolute or ".." paths, unsupported
// entry types) fails with an error naming the entry; the sink may then hold a partial blob, which the
// caller discards.
absl::StatusOr<LayerWriteResult> WriteLayer(ByteSource& tar, ByteSink& blob,
                                            const LayerWriterOptions& options = {});

}  // namespace tide::format

#endif  // TIDE_FORMAT_LAYER_WRITER_H_
