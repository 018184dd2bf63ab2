#include "cache/chunk_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"

namespace tide::cache {
namespace {

struct OpenChunk {
  const ChunkCache* cache = nullptr;
  Sha256Bytes digest{};
  FileStamp stamp;
  UniqueFd fd;
};

constexpr size_t kOpenChunksPerThread = 4;

// Returns the thread's open fd for the chunk, opening it (and replacing the oldest slot) on a miss.
absl::StatusOr<int> ChunkFd(ChunkCache& cache, const Sha256Bytes& digest, FileStamp* opened) {
  thread_local std::array<OpenChunk, kOpenChunksPerThread> slots;
  thread_local size_t next = 0;
  for (OpenChunk& s : slots) {
    if (s.cache != &cache || !s.fd.valid() || s.digest != digest) continue;
    // One fstat per read: a chunk file written to since it was verified is verified again.
    if (StampOf(s.fd.get()) == s.stamp) {
      *opened = s.stamp;
      return s.fd.get();
    }
    s.fd.reset();
    break;
  }
  FileStamp stamp;
  absl::StatusOr<UniqueFd> fd = cache.OpenChunk(digest, &stamp);
  if (!fd.ok()) return fd.status();
  OpenChunk& slot = slots[next++ % kOpenChunksPerThread];
  slot.cache = &cache;
  slot.stamp = stamp;
  *opened = stamp;
  slot.digest = digest;
  slot.fd = std::move(*fd);
  return slot.fd.get();
}

}  // namespace

absl::StatusOr<size_t> ReadCachedChunk(ChunkCache& cache, const Sha256Bytes& digest, uint64_t offset,
                                       std::span<char> dst) {
  FileStamp stamp;
  absl::StatusOr<int> fd = ChunkFd(cache, digest, &stamp);
  if (!fd.ok()) return fd.status();
  size_t done = 0;
  while (done < dst.size()) {
    ssize_t n = ::pread(*fd, dst.data() + done, dst.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return absl::InternalError(
          absl::StrCat("read cached chunk ", HexEncode(digest), ": ", std::strerror(errno)));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  // Evicted (truncated) while being read: as absent, so the caller fetches it again.
  if (done < dst.size() && !(StampOf(*fd) == stamp)) {
    return absl::NotFoundError(absl::StrCat("chunk ", HexEncode(digest), " was evicted while being read"));
  }
  return done;
}

}  // namespace tide::cache
