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
  UniqueFd fd;
};

constexpr size_t kOpenChunksPerThread = 4;

// Returns the thread's open fd for the chunk, opening it (and replacing the oldest slot) on a miss.
absl::StatusOr<int> ChunkFd(ChunkCache& cache, const Sha256Bytes& digest) {
  thread_local std::array<OpenChunk, kOpenChunksPerThread> slots;
  thread_local size_t next = 0;
  for (OpenChunk& s : slots) {
    if (s.cache == &cache && s.fd.valid() && s.digest == digest) return s.fd.get();
  }
  absl::StatusOr<UniqueFd> fd = cache.OpenChunk(digest);
  if (!fd.ok()) return fd.status();
  OpenChunk& slot = slots[next++ % kOpenChunksPerThread];
  slot.cache = &cache;
  slot.digest = digest;
  slot.fd = std::move(*fd);
  return slot.fd.get();
}

}  // namespace

absl::StatusOr<size_t> ReadCachedChunk(ChunkCache& cache, const Sha256Bytes& digest, uint64_t offset,
                                       std::span<char> dst) {
  absl::StatusOr<int> fd = ChunkFd(cache, digest);
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
  return done;
}

}  // namespace tide::cache
