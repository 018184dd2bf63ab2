#ifndef TIDE_FUSE_LAYER_FILE_READER_H_
#define TIDE_FUSE_LAYER_FILE_READER_H_

#include <chrono>
#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "fetch/chunk_fetcher.h"
#include "format/layer_index.h"

namespace tide::fuse {

// Reads [offset, offset + dst.size()) of regular file `id` (a resolved entry) of a layer: its chunks
// are made present through the fetcher (with `ahead` as read-ahead), then copied from the cache.
// A chunk evicted between the fetch and the copy is fetched again, within one timeout: `timeout`, or
// the fetcher's read_timeout when zero. Returns the bytes read (fewer at the end of the file, 0 past it).
absl::StatusOr<size_t> ReadLayerFile(const format::LayerIndex& index, fetch::ChunkFetcher& fetcher,
                                     format::EntryId id, uint64_t offset, std::span<char> dst,
                                     const fetch::ReadAhead& ahead = {},
                                     std::chrono::milliseconds timeout = std::chrono::milliseconds::zero());

}  // namespace tide::fuse

#endif  // TIDE_FUSE_LAYER_FILE_READER_H_
