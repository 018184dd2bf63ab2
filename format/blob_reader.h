#ifndef TIDE_FORMAT_BLOB_READER_H_
#define TIDE_FORMAT_BLOB_READER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "format/byte_io.h"
#include "format/layer_index.h"

namespace tide::format {

// Loads a layer's index through a range reader. With an expected digest (from the
// containerd.io/snapshot/tide.index-* annotations) the index is fetched in one read at the given
// position and verified against it; without, the footer at the end of the blob locates it and its
// sha256 in the footer is checked (integrity only: the footer itself is not authenticated).
absl::StatusOr<LayerIndex> LoadIndexAt(RangeReader& blob, uint64_t index_offset, uint64_t index_size,
                                       const Digest& index_digest, const IndexLimits& limits = {});
absl::StatusOr<LayerIndex> LoadIndexFromFooter(RangeReader& blob, uint64_t blob_size,
                                               const IndexLimits& limits = {});

// Reads `length` bytes at `offset` of a regular file entry from the chunks alone, verifying every
// chunk it decodes. Reads past the end of the file are truncated (like read(2)).
absl::StatusOr<std::string> ReadFileRange(RangeReader& blob, const LayerIndex& index, EntryId file,
                                          uint64_t offset, uint64_t length);

}  // namespace tide::format

#endif  // TIDE_FORMAT_BLOB_READER_H_
