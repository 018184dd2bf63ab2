#ifndef TIDE_CACHE_CHUNK_READER_H_
#define TIDE_CACHE_CHUNK_READER_H_

#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "cache/chunk_cache.h"
#include "common/sha256.h"

namespace tide::cache {

// Reads cached chunks for the FUSE read path. Each worker thread keeps its last few chunk files open,
// so a sequential reader neither reopens the file per request nor loses the kernel's readahead state
// on it (a fresh fd starts readahead from scratch). Eviction truncates a chunk file before unlinking
// it, so these fds never hold disk space; a read that races an eviction gets NotFound. Each read
// checks the open file's stamp (one fstat): a chunk file written to since it was verified is
// verified again. NotFound when the chunk is not cached or was found corrupt (and removed), so the
// caller fetches it again.
absl::StatusOr<size_t> ReadCachedChunk(ChunkCache& cache, const Sha256Bytes& digest, uint64_t offset,
                                       std::span<char> dst);

}  // namespace tide::cache

#endif  // TIDE_CACHE_CHUNK_READER_H_
