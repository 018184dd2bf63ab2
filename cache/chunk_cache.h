#ifndef TIDE_CACHE_CHUNK_CACHE_H_
#define TIDE_CACHE_CHUNK_CACHE_H_

#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "cache/pin_file.h"
#include "common/dir_lock.h"
#include "common/sha256.h"
#include "common/unique_fd.h"

namespace tide::cache {

struct Sha256Hash {
  size_t operator()(const Sha256Bytes& b) const {
    size_t h;
    static_assert(sizeof(h) <= sizeof(Sha256Bytes));
    std::memcpy(&h, b.data(), sizeof(h));  // already uniformly distributed
    return h;
  }
};

// What a chunk file looked like when its bytes last matched their digest. Any write to the file
// changes its change time (and usually its size), so a file whose stamp differs is hashed again
// before it is used: a chunk corrupted on disk is refetched, never served.
struct FileStamp {
  uint64_t ino = 0;  // 0: never verified by this process
  uint64_t size = 0;
  int64_t ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

// The stamp of an open file; a zero stamp when fstat fails.
FileStamp StampOf(int fd);

// Node-wide on-disk cache of decompressed, verified chunks, content-addressed by the chunk's sha256,
// so equal chunks of different layers and images are stored once and every mount shares them.
// Layout: <root>/chunks/<2 hex>/<64 hex>; writes go through <root>/tmp and are renamed into place,
// without an fsync each: a file that a machine crash left torn fails its hash when first opened and
// is fetched again, and Sync() makes the chunks stored so far durable. Cold chunks are evicted (least
// recently used first) once the total exceeds max_bytes, and to make room when the disk itself is full (a
// cache_max_bytes larger than the filesystem). A chunk file is hashed again the first time this
// process opens it and whenever it changed since (FileStamp); one that no longer matches is removed
// and reported as not cached, so the caller fetches it again.
class ChunkCache {
 public:
  // Takes the cache directory's lock first: FailedPrecondition, touching nothing, when another
  // ChunkCache (in any process) has it open.
  static absl::StatusOr<std::shared_ptr<ChunkCache>> Open(const std::filesystem::path& root,
                                                          uint64_t max_bytes);

  bool Contains(const Sha256Bytes& digest);
  // Stores a chunk the caller has already verified against `digest`.
  absl::Status Put(const Sha256Bytes& digest, std::string_view data);
  // Makes every chunk stored so far survive a machine crash (syncfs of the cache's filesystem).
  absl::Status Sync();
  // Opens a cached chunk for reading, verified (see FileStamp); NotFound if absent (never cached or
  // evicted) or corrupt. `stamp`, if given, gets the verified file's stamp.
  absl::StatusOr<UniqueFd> OpenChunk(const Sha256Bytes& digest, FileStamp* stamp = nullptr);
  // Copies up to dst.size() bytes from `offset` of the chunk; returns the count copied.
  absl::StatusOr<size_t> Read(const Sha256Bytes& digest, uint64_t offset, std::span<char> dst);

  // Pins (`tidectl warm`): an owner's chunks are never evicted, by the bound or by a full disk, until
  // it unpins them. A digest may be pinned before its chunk is cached, so pin first, then fetch.
  // Pins are durable (<root>/pins/, one file per owner) and loaded before Open evicts anything.
  // Pin replaces what the owner pinned before; `meta` is kept with the pins, opaque to the cache.
  absl::Status Pin(std::string_view owner, std::string_view meta, std::span<const Sha256Bytes> digests);
  // NotFound when the owner has no pins.
  absl::Status Unpin(std::string_view owner);
  std::vector<PinFile> Pins();
  bool IsPinned(const Sha256Bytes& digest);
  // Bytes of cached chunks that are pinned, leaving out those only `except_owner` pins.
  uint64_t PinnedBytes(std::string_view except_owner = {});

  uint64_t used_bytes() const { return used_bytes_.load(std::memory_order_relaxed); }
  uint64_t max_bytes() const { return max_bytes_; }
  uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }
  // Chunk files found corrupt on disk (and removed).
  uint64_t corruptions() const { return corruptions_.load(std::memory_order_relaxed); }
  // Writes that found the disk full and evicted chunks to make room.
  uint64_t disk_full_events() const { return disk_full_.load(std::memory_order_relaxed); }
  size_t chunk_count();
  const std::filesystem::path& root() const { return root_; }

 private:
  struct Entry {
    uint64_t size = 0;
    uint64_t last_use = 0;
    FileStamp verified;
  };
  ChunkCache(DirLock lock, uint64_t max_bytes)
      : lock_(std::move(lock)), root_(lock_.dir()), max_bytes_(max_bytes) {}
  absl::Status Scan();
  // Reads <root>/pins; a file that cannot be read is set aside (renamed *.bad) and logged.
  void LoadPins();
  void AddPinsLocked(const PinFile& pin);
  void RemovePinsLocked(std::string_view owner);
  std::filesystem::path PathOf(const Sha256Bytes& digest) const;
  void EvictLocked();
  // Evicts unpinned chunks, least recently used first, until used_bytes_ <= target; returns the
  // bytes freed.
  uint64_t EvictDownToLocked(uint64_t target);
  absl::Status WriteFile(const std::filesystem::path& tmp_path, std::string_view data);
  // Evicts the least recently used tenth (at least `needed` bytes); false when nothing is left.
  bool MakeRoom(uint64_t needed);
  void WarnDiskFull();
  absl::Status Verify(int fd, const Sha256Bytes& digest, const FileStamp& stamp);
  // Removes the chunk if its file is still the one `seen` describes; true if it did.
  bool Discard(const Sha256Bytes& digest, const FileStamp& seen);

  // Held for the cache's lifetime: Open scans, evicts and deletes tmp/, which would damage a cache
  // another process (a daemon, `tidectl mount --cache`) is using.
  DirLock lock_;
  const std::filesystem::path root_;
  const uint64_t max_bytes_;
  std::atomic<uint64_t> used_bytes_{0};
  std::atomic<uint64_t> evictions_{0};
  std::atomic<uint64_t> corruptions_{0};
  std::atomic<uint64_t> disk_full_{0};
  std::atomic<int64_t> last_full_warning_{0};  // steady-clock seconds
  std::atomic<uint64_t> tmp_seq_{0};
  std::mutex mu_;
  uint64_t clock_ = 0;
  absl::flat_hash_map<Sha256Bytes, Entry, Sha256Hash> entries_;
  absl::flat_hash_map<std::string, PinFile> pins_;                    // by owner
  absl::flat_hash_map<Sha256Bytes, uint32_t, Sha256Hash> pin_count_;  // owners pinning each digest
};

}  // namespace tide::cache

#endif  // TIDE_CACHE_CHUNK_CACHE_H_
