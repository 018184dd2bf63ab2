#ifndef TIDE_FORMAT_LAYER_INDEX_H_
#define TIDE_FORMAT_LAYER_INDEX_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "common/sha256.h"
#include "format/gzip_index/inflate_checkpoints.h"
#include "format/index_limits.h"

namespace tide::format {

// Entry ids are stable for a given index: 0 is the root directory, 1..N are the tar entries in tar
// order (tar entry i has id i + 1), then the parent directories the tar implies but does not contain.
// A FUSE inode number is id + 1.
using EntryId = uint32_t;
inline constexpr EntryId kRootEntry = 0;
inline constexpr EntryId kNoEntry = std::numeric_limits<EntryId>::max();

enum class EntryType : uint8_t {
  kRegular = 0,
  kDirectory = 1,
  kSymlink = 2,
  kHardlink = 3,
  kCharDevice = 4,
  kBlockDevice = 5,
  kFifo = 6,
};
std::string_view EntryTypeName(EntryType type);

// The blob layout an index was read from. Every format yields the same entry table and chunk table;
// they differ in how a chunk's bytes are compressed and in what names the layer's diff_id.
enum class LayerFormat : uint8_t {
  kTide = 0,         // one zstd frame per chunk, exactly; the index names the diff_id
  kEstargz = 1,      // a chunk is the start of a gzip member; no diff_id in the TOC
  kZstdChunked = 2,  // a chunk is the start of a zstd frame (stargz-snapshotter's zstd:chunked)
  kGzipIndexed = 3,  // an unchanged gzip layer; a chunk restarts inflation at a side index checkpoint
};
std::string_view LayerFormatName(LayerFormat format);

// One zstd frame of the blob. Chunks tile both the blob's data region and the uncompressed tar
// stream contiguously, in the same order.
struct ChunkInfo {
  uint64_t uncompressed_offset = 0;  // in the tar stream
  uint64_t compressed_offset = 0;    // in the blob
  uint32_t uncompressed_size = 0;
  uint32_t compressed_size = 0;
  Sha256Bytes sha256{};  // of the uncompressed bytes
};

// Chunks [first, first + count) of chunks().
struct ChunkRange {
  uint32_t first = 0;
  uint32_t count = 0;
};

struct Xattr {
  std::string_view key;
  std::string_view value;
};

// Attributes of one entry, packed; strings live in the index's arena (use the accessors).
struct EntryAttr {
  uint64_t size = 0;         // regular files: content size
  uint64_t data_offset = 0;  // regular files: offset of the content in the tar stream
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  uint32_t mode = 0;  // stat(2) st_mode: S_IFMT type bits | permission bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t nlink = 1;  // files: 1 + hardlinks to it; directories: 2 + subdirectories
  uint32_t rdev_major = 0;
  uint32_t rdev_minor = 0;
  EntryId parent = kNoEntry;  // kNoEntry for the root and for entries a later duplicate replaced
  EntryId target = kNoEntry;  // hardlinks: the entry they link to (never a hardlink); else own id
  uint32_t path_offset = 0;
  uint32_t path_length = 0;
  uint32_t name_offset = 0;  // of the base name, within the path
  uint32_t link_offset = 0;
  uint32_t link_length = 0;
  uint32_t uname_id = 0;
  uint32_t gname_id = 0;
  uint32_t xattr_begin = 0;
  uint32_t xattr_count = 0;
  uint32_t first_chunk = 0;  // chunks holding [data_offset, data_offset + size)
  uint32_t chunk_count = 0;
  uint32_t children_begin = 0;  // directories: their children in children_
  uint32_t children_count = 0;
  EntryType type = EntryType::kRegular;
  bool synthesized = false;  // an implied parent directory with no tar entry of its own
};

// The in-memory index of one tide layer: compact (packed structs + one string arena), immutable and
// safe to share between threads once loaded.
class LayerIndex {
 public:
  // Verifies `index_frame` (the blob bytes [index_offset, index_offset + index_size)) against
  // `expected_digest` (from the layer annotations), then parses and validates it.
  // Refuses (ResourceExhausted) an index that would take more than `limits.max_memory` to load.
  static absl::StatusOr<LayerIndex> Parse(std::string_view index_frame, const Digest& expected_digest,
                                          const IndexLimits& limits = {});
  // Parses and validates without a digest check: for tools and for the writer's self-check.
  static absl::StatusOr<LayerIndex> ParseUnverified(std::string_view index_frame,
                                                    const IndexLimits& limits = {});

  LayerIndex(LayerIndex&&) noexcept = default;
  LayerIndex& operator=(LayerIndex&&) noexcept = default;

  // Number of entry ids (root + tar entries + synthesized directories).
  size_t entry_count() const { return entries_.size(); }
  size_t tar_entry_count() const { return tar_entry_count_; }
  const EntryAttr& attr(EntryId id) const { return entries_[id]; }
  EntryType type(EntryId id) const { return entries_[id].type; }
  // Normalized path ("" for the root, no leading "./" or "/").
  std::string_view path(EntryId id) const;
  // Base name (last path component; "" for the root).
  std::string_view name(EntryId id) const;
  // Symlink target, or the normalized target path of a hardlink; "" otherwise.
  std::string_view link_target(EntryId id) const;
  std::string_view uname(EntryId id) const { return owner_names_[entries_[id].uname_id]; }
  std::string_view gname(EntryId id) const { return owner_names_[entries_[id].gname_id]; }
  EntryId parent(EntryId id) const { return entries_[id].parent; }
  // The entry whose attributes and inode a name stands for: the target for hardlinks, else id.
  EntryId Resolve(EntryId id) const { return entries_[id].target; }
  // Children of a directory sorted by name (bytewise). These are name-bearing entries: use name()
  // on them and Resolve() for the inode (they differ only for hardlinks).
  std::span<const EntryId> children(EntryId dir) const;
  // Binary search in a directory; returns the resolved entry (see Resolve) or kNoEntry.
  EntryId Lookup(EntryId dir, std::string_view name) const;
  // Walks a normalized or "./"-prefixed path from the root; kNoEntry if absent.
  EntryId LookupPath(std::string_view path) const;
  std::span<const Xattr> xattrs(EntryId id) const;
  // Whether any entry has an xattr.
  bool has_xattrs() const { return !xattrs_.empty(); }

  std::span<const ChunkInfo> chunks() const { return chunks_; }
  const ChunkInfo& chunk(uint32_t id) const { return chunks_[id]; }
  // Chunks holding bytes [offset, offset + length) of a regular file, clipped to the file size.
  // Empty for empty ranges and non-regular entries. No allocation.
  ChunkRange ChunksFor(EntryId file, uint64_t offset, uint64_t length) const;
  // Chunk ids in the order the workload first needs them, and where their region ends in the blob.
  std::span<const uint32_t> startup_chunks() const { return startup_chunks_; }
  // For each startup chunk, the position of its first access in the whole image's access order
  // (smaller = needed earlier; comparable across layers of one image). Empty when the index does not
  // say, else the same size as startup_chunks().
  std::span<const uint32_t> startup_ranks() const { return startup_ranks_; }
  uint64_t startup_end_offset() const { return startup_end_offset_; }

  uint64_t tar_size() const { return tar_size_; }
  // Compressed size of all chunks: where the index frame starts.
  uint64_t data_end() const {
    return chunks_.empty() ? 0 : chunks_.back().compressed_offset + chunks_.back().compressed_size;
  }
  // Empty for formats whose table of contents does not name it (eStargz).
  Digest diff_id() const { return diff_id_; }
  LayerFormat format() const { return format_; }
  // kGzipIndexed: where inflation of each chunk starts; null for other formats.
  const InflateCheckpoints* checkpoints() const { return checkpoints_.get(); }
  uint64_t chunk_size() const { return chunk_size_; }
  // Approximate heap bytes held.
  size_t MemoryUsage() const;

 private:
  friend class IndexLoader;
  LayerIndex() = default;

  std::vector<EntryAttr> entries_;
  // Paths, link targets and xattrs. A heap array rather than a std::string so that the views in
  // xattrs_ survive moves (a short std::string would move its bytes).
  std::unique_ptr<char[]> arena_;
  size_t arena_size_ = 0;
  std::vector<EntryId> children_;
  std::vector<Xattr> xattrs_;
  std::vector<ChunkInfo> chunks_;
  std::vector<uint32_t> startup_chunks_;
  std::vector<uint32_t> startup_ranks_;
  std::vector<std::string> owner_names_;
  size_t tar_entry_count_ = 0;
  uint64_t tar_size_ = 0;
  uint64_t chunk_size_ = 0;
  uint64_t startup_end_offset_ = 0;
  Digest diff_id_;
  LayerFormat format_ = LayerFormat::kTide;
  std::shared_ptr<const InflateCheckpoints> checkpoints_;
};

}  // namespace tide::format

#endif  // TIDE_FORMAT_LAYER_INDEX_H_
