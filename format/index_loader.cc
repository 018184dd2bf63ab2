#include "format/index_loader.h"

#include <sys/stat.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "format/footer.h"
#include "format/index_memory_cost.h"
#include "format/le_bytes.h"
#include "format/tar_path.h"
#include "format/tar_quote.h"
#include "tide/format/v1/layer_index.pb.h"

namespace tide::format {
namespace {

constexpr uint64_t kMaxIndexSize = uint64_t{1} << 30;  // decompressed; ~10M entries
constexpr uint32_t kMaxXattrsPerEntry = 1u << 16;

absl::Status Malformed(std::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("malformed tide index: ", Sv(reason)));
}

absl::Status OverLimit(uint64_t needed, uint64_t limit) {
  return absl::ResourceExhaustedError(absl::StrCat("tide index needs ", needed >> 20,
                                                   " MiB to load, over the ", limit >> 20,
                                                   " MiB limit per layer (max_index_memory)"));
}

uint32_t TypeBits(EntryType type) {
  switch (type) {
    case EntryType::kRegular:
    case EntryType::kHardlink:
      return S_IFREG;
    case EntryType::kDirectory:
      return S_IFDIR;
    case EntryType::kSymlink:
      return S_IFLNK;
    case EntryType::kCharDevice:
      return S_IFCHR;
    case EntryType::kBlockDevice:
      return S_IFBLK;
    case EntryType::kFifo:
      return S_IFIFO;
  }
  return 0;
}

}  // namespace

absl::StatusOr<std::string> DecompressIndexFrame(std::string_view frame, uint64_t max_size) {
  if (frame.size() < 8 || GetLe32(frame.data()) != kIndexFrameMagic ||
      GetLe32(frame.data() + 4) != frame.size() - 8) {
    return Malformed("index frame header missing or its size does not match the index size");
  }
  std::string_view payload = frame.substr(8);
  size_t frame_size = ZSTD_findFrameCompressedSize(payload.data(), payload.size());
  if (ZSTD_isError(frame_size) || frame_size != payload.size()) {
    return Malformed("index payload is not exactly one zstd frame");
  }
  unsigned long long content = ZSTD_getFrameContentSize(payload.data(), payload.size());
  if (content == ZSTD_CONTENTSIZE_UNKNOWN || content == ZSTD_CONTENTSIZE_ERROR || content > kMaxIndexSize) {
    return Malformed("index payload has no usable content size");
  }
  if (content > max_size) return OverLimit(content, max_size);
  std::string out(static_cast<size_t>(content), '\0');
  size_t n = ZSTD_decompress(out.data(), out.size(), payload.data(), payload.size());
  if (ZSTD_isError(n) || n != out.size()) {
    return Malformed(absl::StrCat("index payload does not decompress: ",
                                  ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch"));
  }
  return out;
}

absl::Status IndexLoader::CheckColumns(const tide::format::v1::LayerIndex& pb, size_t n) {
  const int sizes[] = {pb.types_size(),        pb.modes_size(),        pb.uids_size(),
                       pb.gids_size(),         pb.uname_ids_size(),    pb.gname_ids_size(),
                       pb.sizes_size(),        pb.data_offsets_size(), pb.mtime_secs_size(),
                       pb.mtime_nsecs_size(),  pb.dev_majors_size(),   pb.dev_minors_size(),
                       pb.link_lengths_size(), pb.xattr_counts_size()};
  for (int s : sizes) {
    if (static_cast<size_t>(s) != n) return Malformed("entry columns have different lengths");
  }
  if (pb.xattr_key_lengths_size() != pb.xattr_value_lengths_size()) {
    return Malformed("xattr key and value columns have different lengths");
  }
  if (pb.chunk_compressed_sizes_size() != pb.chunk_uncompressed_sizes_size() ||
      pb.chunk_sha256s().size() != static_cast<size_t>(pb.chunk_compressed_sizes_size()) * 32) {
    return Malformed("chunk columns have different lengths");
  }
  return absl::OkStatus();
}

absl::Status IndexLoader::LoadChunks(const tide::format::v1::LayerIndex& pb, LayerIndex* index) {
  size_t count = static_cast<size_t>(pb.chunk_compressed_sizes_size());
  index->chunks_.resize(count);
  uint64_t uoff = 0;
  uint64_t coff = 0;
  for (size_t i = 0; i < count; ++i) {
    ChunkInfo& c = index->chunks_[i];
    c.uncompressed_offset = uoff;
    c.compressed_offset = coff;
    c.uncompressed_size = pb.chunk_uncompressed_sizes(static_cast<int>(i));
    c.compressed_size = pb.chunk_compressed_sizes(static_cast<int>(i));
    if (c.uncompressed_size == 0 || c.compressed_size == 0)
      return Malformed(absl::StrCat("chunk ", i, " is empty"));
    if (c.uncompressed_size > kMaxChunkSize || c.compressed_size > ZSTD_COMPRESSBOUND(kMaxChunkSize)) {
      return Malformed(absl::StrCat("chunk ", i, " is larger than the ", kMaxChunkSize, "-byte chunk limit"));
    }
    std::memcpy(c.sha256.data(), pb.chunk_sha256s().data() + i * 32, 32);
    uoff += c.uncompressed_size;
    coff += c.compressed_size;
  }
  if (uoff != pb.tar_size()) return Malformed("chunk sizes do not add up to the tar size");
  index->tar_size_ = uoff;
  for (uint32_t id : pb.startup_chunks()) {
    if (id >= count) return Malformed(absl::StrCat("startup chunk ", id, " does not exist"));
  }
  index->startup_chunks_.assign(pb.startup_chunks().begin(), pb.startup_chunks().end());
  // Older writers leave the ranks out; a partial list cannot be matched to its chunks.
  if (pb.startup_ranks_size() != 0 && pb.startup_ranks_size() != pb.startup_chunks_size()) {
    return Malformed(absl::StrCat(pb.startup_ranks_size(), " startup ranks for ", pb.startup_chunks_size(),
                                  " startup chunks"));
  }
  index->startup_ranks_.assign(pb.startup_ranks().begin(), pb.startup_ranks().end());
  if (pb.startup_end_offset() > coff) return Malformed("startup region ends beyond the chunks");
  index->startup_end_offset_ = pb.startup_end_offset();
  return absl::OkStatus();
}

absl::Status IndexLoader::LoadEntries(const tide::format::v1::LayerIndex& pb, LayerIndex* index) {
  size_t n = static_cast<size_t>(pb.path_lengths_size());
  uint64_t arena_size = pb.paths().size() + pb.link_targets().size() + pb.xattr_data().size();
  if (arena_size >= UINT32_MAX) return Malformed("string data too large");
  index->arena_ = std::make_unique<char[]>(arena_size);
  index->arena_size_ = arena_size;
  char* arena = index->arena_.get();
  std::memcpy(arena, pb.paths().data(), pb.paths().size());
  const uint32_t link_base = static_cast<uint32_t>(pb.paths().size());
  std::memcpy(arena + link_base, pb.link_targets().data(), pb.link_targets().size());
  const uint32_t xattr_base = link_base + static_cast<uint32_t>(pb.link_targets().size());
  std::memcpy(arena + xattr_base, pb.xattr_data().data(), pb.xattr_data().size());

  for (const auto& name : pb.owner_names()) index->owner_names_.push_back(name);
  if (index->owner_names_.empty()) index->owner_names_.emplace_back();

  // Room for some synthesized parent directories without a reallocation that would double the size.
  index->entries_.reserve(n + 1 + n / 16 + 16);
  index->entries_.resize(n + 1);
  EntryAttr& root = index->entries_[0];
  root.type = EntryType::kDirectory;
  root.mode = S_IFDIR | 0755;
  root.target = kRootEntry;
  root.synthesized = true;

  uint64_t path_pos = 0, link_pos = 0, key_idx = 0, xattr_pos = 0;
  const uint64_t key_total = static_cast<uint64_t>(pb.xattr_key_lengths_size());
  for (size_t i = 0; i < n; ++i) {
    const int k = static_cast<int>(i);
    EntryAttr& e = index->entries_[i + 1];
    uint32_t type = pb.types(k);
    if (type > static_cast<uint32_t>(EntryType::kFifo))
      return Malformed(absl::StrCat("entry ", i, ": bad type"));
    e.type = static_cast<EntryType>(type);
    uint64_t plen = pb.path_lengths(k);
    if (plen > pb.paths().size() - path_pos) return Malformed("path lengths exceed the path data");
    e.path_offset = static_cast<uint32_t>(path_pos);
    e.path_length = static_cast<uint32_t>(plen);
    path_pos += plen;
    std::string_view path(arena + e.path_offset, e.path_length);
    if (!IsNormalizedPath(path)) return Malformed(absl::StrCat("entry ", i, ": path is not normalized"));
    size_t slash = path.rfind('/');
    e.name_offset = slash == std::string_view::npos ? 0 : static_cast<uint32_t>(slash + 1);
    uint64_t llen = pb.link_lengths(k);
    if (llen > pb.link_targets().size() - link_pos) return Malformed("link lengths exceed the link data");
    e.link_offset = link_base + static_cast<uint32_t>(link_pos);
    e.link_length = static_cast<uint32_t>(llen);
    link_pos += llen;
    bool needs_link = e.type == EntryType::kSymlink || e.type == EntryType::kHardlink;
    if (needs_link != (llen > 0))
      return Malformed(absl::StrCat("entry ", QuoteTarText(path), ": link target mismatch"));
    if (e.type == EntryType::kHardlink &&
        !IsNormalizedPath(index->link_target(static_cast<EntryId>(i + 1)))) {
      return Malformed(absl::StrCat("hardlink ", QuoteTarText(path), ": target is not a normalized path"));
    }
    e.mode = TypeBits(e.type) | (pb.modes(k) & 07777);
    e.uid = pb.uids(k);
    e.gid = pb.gids(k);
    e.uname_id = pb.uname_ids(k);
    e.gname_id = pb.gname_ids(k);
    if (e.uname_id >= index->owner_names_.size() || e.gname_id >= index->owner_names_.size()) {
      return Malformed(absl::StrCat("entry ", QuoteTarText(path), ": owner name id out of range"));
    }
    e.size = pb.sizes(k);
    e.data_offset = pb.data_offsets(k);
    if (e.type != EntryType::kRegular && (e.size != 0 || e.data_offset != 0)) {
      return Malformed(absl::StrCat("entry ", QuoteTarText(path), ": only regular files have content"));
    }
    if (e.data_offset > index->tar_size_ || e.size > index->tar_size_ - e.data_offset) {
      return Malformed(absl::StrCat("entry ", QuoteTarText(path), ": content lies outside the tar stream"));
    }
    e.mtime_sec = pb.mtime_secs(k);
    e.mtime_nsec = pb.mtime_nsecs(k);
    if (e.mtime_nsec >= 1000000000u)
      return Malformed(absl::StrCat("entry ", QuoteTarText(path), ": bad mtime"));
    e.rdev_major = pb.dev_majors(k);
    e.rdev_minor = pb.dev_minors(k);
    uint32_t xcount = pb.xattr_counts(k);
    if (xcount > kMaxXattrsPerEntry || xcount > key_total - key_idx)
      return Malformed("xattr counts exceed the xattrs");
    e.xattr_begin = static_cast<uint32_t>(index->xattrs_.size());
    e.xattr_count = xcount;
    for (uint32_t x = 0; x < xcount; ++x, ++key_idx) {
      uint64_t kl = pb.xattr_key_lengths(static_cast<int>(key_idx));
      uint64_t vl = pb.xattr_value_lengths(static_cast<int>(key_idx));
      if (kl == 0 || kl > pb.xattr_data().size() - xattr_pos ||
          vl > pb.xattr_data().size() - xattr_pos - kl) {
        return Malformed("xattr lengths exceed the xattr data");
      }
      const char* base = arena + xattr_base + xattr_pos;
      index->xattrs_.push_back({std::string_view(base, kl), std::string_view(base + kl, vl)});
      xattr_pos += kl + vl;
    }
    e.target = static_cast<EntryId>(i + 1);
    if (e.type == EntryType::kRegular && e.size > 0) {
      // The chunk holding the first content byte, then every chunk up to the one holding the last.
      const auto& chunks = index->chunks_;
      auto first =
          std::upper_bound(chunks.begin(), chunks.end(), e.data_offset,
                           [](uint64_t off, const ChunkInfo& c) { return off < c.uncompressed_offset; });
      auto last =
          std::upper_bound(chunks.begin(), chunks.end(), e.data_offset + e.size - 1,
                           [](uint64_t off, const ChunkInfo& c) { return off < c.uncompressed_offset; });
      e.first_chunk = static_cast<uint32_t>(first - chunks.begin() - 1);
      e.chunk_count = static_cast<uint32_t>(last - first + 1);
    }
  }
  if (path_pos != pb.paths().size() || link_pos != pb.link_targets().size() || key_idx != key_total ||
      xattr_pos != pb.xattr_data().size()) {
    return Malformed("string columns have trailing data");
  }
  index->tar_entry_count_ = n;
  return absl::OkStatus();
}

absl::Status IndexLoader::BuildTree(LayerIndex* index, uint64_t max_entries) {
  auto& entries = index->entries_;
  const size_t n = index->tar_entry_count_;
  absl::flat_hash_map<absl::string_view, EntryId> by_path;
  by_path.reserve(n);
  auto path_of = [&](EntryId id) { return Sv(index->path(id)); };
  // Later entries replace earlier ones with the same path, as extraction would. Replaced entries
  // keep parent == kNoEntry and so stay unreachable.
  std::vector<bool> replaced(n + 1, false);
  for (EntryId id = 1; id <= n; ++id) {
    if (entries[id].path_length == 0) {
      if (entries[id].type != EntryType::kDirectory) return Malformed("the root entry is not a directory");
      EntryAttr root = entries[id];
      root.parent = kNoEntry;
      root.target = kRootEntry;
      root.synthesized = false;
      entries[kRootEntry] = root;
      continue;
    }
    auto [it, inserted] = by_path.try_emplace(path_of(id), id);
    if (!inserted) {
      replaced[it->second] = true;
      it->second = id;
    }
  }
  // Siblings are usually adjacent in a tar, so remembering the last parent saves most lookups.
  std::string_view last_parent_path;
  EntryId last_parent = kNoEntry;
  for (EntryId id = 1; id <= n; ++id) {
    if (entries[id].path_length == 0 || replaced[id]) continue;
    EntryId child = id;
    // Walk up until a parent that is already attached, synthesizing missing directories.
    while (true) {
      std::string_view path = index->path(child);
      size_t slash = path.rfind('/');
      if (slash == std::string_view::npos) {
        entries[child].parent = kRootEntry;
        break;
      }
      std::string_view parent_path = path.substr(0, slash);
      if (last_parent != kNoEntry && parent_path == last_parent_path) {
        entries[child].parent = last_parent;
        break;
      }
      auto [pit, inserted] = by_path.try_emplace(Sv(parent_path), static_cast<EntryId>(entries.size()));
      if (inserted) {
        if (entries.size() >= kNoEntry - 1) return Malformed("too many entries");
        if (entries.size() >= max_entries) {
          return absl::ResourceExhaustedError(
              absl::StrCat("tide index implies more directories than its memory limit allows (", max_entries,
                           " entries)"));
        }
        EntryAttr dir;
        dir.type = EntryType::kDirectory;
        dir.mode = S_IFDIR | 0755;
        dir.path_offset = entries[child].path_offset;
        dir.path_length = static_cast<uint32_t>(slash);
        size_t pslash = parent_path.rfind('/');
        dir.name_offset = pslash == std::string_view::npos ? 0 : static_cast<uint32_t>(pslash + 1);
        dir.target = static_cast<EntryId>(entries.size());
        dir.synthesized = true;
        entries.push_back(dir);
      }
      EntryId parent = pit->second;
      if (entries[parent].type != EntryType::kDirectory) {
        return absl::InvalidArgumentError(absl::StrCat("tide index: entry ", QuoteTarText(index->path(child)),
                                                       ": parent ", QuoteTarText(parent_path),
                                                       " is not a directory"));
      }
      entries[child].parent = parent;
      if (!inserted) {
        last_parent_path = parent_path;
        last_parent = parent;
        break;
      }
      child = parent;
    }
  }
  // Only give memory back when the reserve was exceeded (the vector doubled); a copy costs time.
  if (entries.capacity() > entries.size() + entries.size() / 8) entries.shrink_to_fit();
  TIDE_RETURN_IF_ERROR(ResolveHardlinks(index, by_path));
  BuildChildren(index);
  return absl::OkStatus();
}

absl::Status IndexLoader::ResolveHardlinks(LayerIndex* index,
                                           const absl::flat_hash_map<absl::string_view, EntryId>& by_path) {
  auto& entries = index->entries_;
  for (EntryId id = 1; id < entries.size(); ++id) {
    if (entries[id].type != EntryType::kHardlink || entries[id].parent == kNoEntry) continue;
    EntryId target = id;
    // Chains (a link to a link) are followed a bounded number of hops, which also stops cycles.
    for (size_t hops = 0; entries[target].type == EntryType::kHardlink; ++hops) {
      auto it = by_path.find(Sv(index->link_target(target)));
      if (it == by_path.end() || hops > 64) {
        return absl::InvalidArgumentError(absl::StrCat("tide index: hardlink ", QuoteTarText(index->path(id)),
                                                       ": target ", QuoteTarText(index->link_target(id)),
                                                       " is not in the layer"));
      }
      target = it->second;
    }
    if (entries[target].type == EntryType::kDirectory) {
      return absl::InvalidArgumentError(
          absl::StrCat("tide index: hardlink ", QuoteTarText(index->path(id)), " points to a directory"));
    }
    entries[id].target = target;
    entries[target].nlink++;
  }
  return absl::OkStatus();
}

void IndexLoader::BuildChildren(LayerIndex* index) {
  auto& entries = index->entries_;
  // Counting sort by parent, then by name within each directory.
  for (EntryId id = 1; id < entries.size(); ++id) {
    EntryId p = entries[id].parent;
    if (p != kNoEntry) entries[p].children_count++;
  }
  uint32_t pos = 0;
  for (auto& e : entries) {
    e.children_begin = pos;
    pos += e.children_count;
    e.children_count = 0;
  }
  index->children_.resize(pos);
  for (EntryId id = 1; id < entries.size(); ++id) {
    EntryId p = entries[id].parent;
    if (p == kNoEntry) continue;
    index->children_[entries[p].children_begin + entries[p].children_count++] = id;
    if (entries[id].type == EntryType::kDirectory) entries[p].nlink++;
  }
  for (auto& e : entries) {
    if (e.type == EntryType::kDirectory) e.nlink += 1;  // "." and the name in the parent: 2 total
    if (e.children_count < 2) continue;
    auto begin = index->children_.begin() + e.children_begin;
    std::sort(begin, begin + e.children_count,
              [index](EntryId a, EntryId b) { return index->name(a) < index->name(b); });
  }
}

absl::StatusOr<LayerIndex> IndexLoader::Load(tide::format::v1::LayerIndex& pb, uint64_t max_entries) {
  if (pb.version() != 1) return Malformed(absl::StrCat("unsupported index version ", pb.version()));
  size_t n = static_cast<size_t>(pb.path_lengths_size());
  if (n >= kNoEntry / 2) return Malformed("too many entries");
  TIDE_RETURN_IF_ERROR(CheckColumns(pb, n));
  if (!pb.tar_sha256().empty() && pb.tar_sha256().size() != 32)
    return Malformed("tar sha256 is not 32 bytes");
  LayerIndex index;
  index.chunk_size_ = pb.chunk_size();
  if (pb.tar_sha256().size() == 32) {
    Sha256Bytes b;
    std::memcpy(b.data(), pb.tar_sha256().data(), 32);
    index.diff_id_ = Digest::FromSha256(b);
  }
  TIDE_RETURN_IF_ERROR(LoadChunks(pb, &index));
  TIDE_RETURN_IF_ERROR(LoadEntries(pb, &index));
  TIDE_RETURN_IF_ERROR(BuildTree(&index, max_entries));
  return index;
}

absl::StatusOr<LayerIndex> IndexLoader::LoadPlaced(tide::format::v1::LayerIndex& pb, uint64_t max_entries,
                                                   LayerFormat format, uint64_t data_start,
                                                   std::shared_ptr<const InflateCheckpoints> checkpoints) {
  TIDE_ASSIGN_OR_RETURN(LayerIndex index, Load(pb, max_entries));
  if ((format == LayerFormat::kGzipIndexed) != (checkpoints != nullptr) ||
      (checkpoints != nullptr && checkpoints->size() != index.chunks_.size()))
    return Malformed("inflate checkpoints do not match the chunks");
  index.checkpoints_ = std::move(checkpoints);
  if (data_start > UINT64_MAX / 2 || index.data_end() > UINT64_MAX / 2)
    return Malformed("chunk offsets out of range");
  for (ChunkInfo& c : index.chunks_) c.compressed_offset += data_start;
  if (index.startup_end_offset_ != 0) index.startup_end_offset_ += data_start;
  index.format_ = format;
  return index;
}

absl::StatusOr<LayerIndex> IndexLoader::LoadFrame(std::string_view frame, const IndexLimits& limits) {
  TIDE_ASSIGN_OR_RETURN(std::string raw, DecompressIndexFrame(frame, limits.max_memory));
  // Counted from the wire before parsing: the protobuf and the table are what an index bomb inflates.
  TIDE_ASSIGN_OR_RETURN(uint64_t needed, EstimateIndexMemory(raw));
  if (needed > limits.max_memory) return OverLimit(needed, limits.max_memory);
  tide::format::v1::LayerIndex pb;
  if (!pb.ParseFromString(raw)) return Malformed("index protobuf does not parse");
  const uint64_t spare_entries = (limits.max_memory - needed) / kIndexEntryCost;
  return Load(pb, static_cast<uint64_t>(pb.path_lengths_size()) + 1 + spare_entries);
}

}  // namespace tide::format
