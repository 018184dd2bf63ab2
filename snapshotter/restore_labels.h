#ifndef TIDE_SNAPSHOTTER_RESTORE_LABELS_H_
#define TIDE_SNAPSHOTTER_RESTORE_LABELS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "format/layer_index.h"
#include "snapshotter/snapshot_info.h"

namespace tide::snapshotter {

// What a committed remote snapshot keeps beside its Prepare labels so that Restore, after a restart,
// mounts it again without asking the registry: a running container's layer must come back even
// while the registry is unreachable. The mounter returns these from Mount; the snapshotter stores
// them and drops any a client sent, so only the daemon's own values are ever read back.
inline constexpr char kTideRestoreLabelPrefix[] = "containerd.io/snapshot/tide.restore.";
// A gzip layer's side index as Mount resolved it from the image's artifact: "<digest> <size>
// <layer blob size>".
inline constexpr char kTideRestoreSideIndexLabel[] = "containerd.io/snapshot/tide.restore.side-index";

struct RestoredSideIndex {
  Digest digest;
  uint64_t size = 0;
  uint64_t blob_size = 0;
};

// A stargz-TOC layer's TOC as Mount found it (its JSON is kept in the chunk cache): "<estargz |
// zstd:chunked> <toc offset> <layer blob size>".
inline constexpr char kTideRestoreStargzTocLabel[] = "containerd.io/snapshot/tide.restore.stargz-toc";

struct RestoredStargzToc {
  format::LayerFormat format = format::LayerFormat::kEstargz;  // kEstargz or kZstdChunked
  uint64_t toc_offset = 0;
  uint64_t blob_size = 0;
};

// The layer blob's size, for a format whose labels locate its index but not the blob's end
// (containers/storage's zstd:chunked): "<bytes>".
inline constexpr char kTideRestoreBlobSizeLabel[] = "containerd.io/snapshot/tide.restore.blob-size";

std::string FormatRestoredSideIndex(const RestoredSideIndex& index);
// NotFound without the label; InvalidArgument when it is malformed or out of bounds.
absl::StatusOr<RestoredSideIndex> ParseRestoredSideIndex(const Labels& labels);

std::string FormatRestoredStargzToc(const RestoredStargzToc& toc);
// NotFound without the label; InvalidArgument when it is malformed or out of bounds.
absl::StatusOr<RestoredStargzToc> ParseRestoredStargzToc(const Labels& labels);

// NotFound without the label; InvalidArgument when it is not a size in 1..16 TiB.
absl::StatusOr<uint64_t> ParseRestoredBlobSize(const Labels& labels);

// Removes every tide.restore.* label (those a client put in its Prepare labels).
void DropRestoreLabels(Labels& labels);

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_RESTORE_LABELS_H_
