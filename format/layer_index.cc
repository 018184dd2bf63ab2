#include "format/layer_index.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "format/index_loader.h"

namespace tide::format {

std::string_view LayerFormatName(LayerFormat format) {
  switch (format) {
    case LayerFormat::kTide:
      return "tide";
    case LayerFormat::kEstargz:
      return "estargz";
    case LayerFormat::kZstdChunked:
      return "zstd:chunked";
    case LayerFormat::kGzipIndexed:
      return "gzip+index";
  }
  return "unknown";
}

std::string_view EntryTypeName(EntryType type) {
  switch (type) {
    case EntryType::kRegular:
      return "file";
    case EntryType::kDirectory:
      return "dir";
    case EntryType::kSymlink:
      return "symlink";
    case EntryType::kHardlink:
      return "hardlink";
    case EntryType::kCharDevice:
      return "char";
    case EntryType::kBlockDevice:
      return "block";
    case EntryType::kFifo:
      return "fifo";
  }
  return "unknown";
}

absl::StatusOr<LayerIndex> LayerIndex::Parse(std::string_view index_frame, const Digest& expected_digest,
                                             const IndexLimits& limits) {
  Digest actual = Digest::Of(index_frame);
  if (!(actual == expected_digest)) {
    return absl::DataLossError(
        absl::StrCat("tide index digest mismatch: expected ", expected_digest.str(), ", got ", actual.str()));
  }
  return ParseUnverified(index_frame, limits);
}

absl::StatusOr<LayerIndex> LayerIndex::ParseUnverified(std::string_view index_frame,
                                                       const IndexLimits& limits) {
  return IndexLoader::LoadFrame(index_frame, limits);
}

std::string_view LayerIndex::path(EntryId id) const {
  const EntryAttr& e = entries_[id];
  return std::string_view(arena_.get() + e.path_offset, e.path_length);
}

std::string_view LayerIndex::name(EntryId id) const { return path(id).substr(entries_[id].name_offset); }

std::string_view LayerIndex::link_target(EntryId id) const {
  const EntryAttr& e = entries_[id];
  return std::string_view(arena_.get() + e.link_offset, e.link_length);
}

std::span<const EntryId> LayerIndex::children(EntryId dir) const {
  const EntryAttr& e = entries_[dir];
  return std::span<const EntryId>(children_.data() + e.children_begin, e.children_count);
}

EntryId LayerIndex::Lookup(EntryId dir, std::string_view child_name) const {
  if (dir >= entries_.size() || entries_[dir].type != EntryType::kDirectory) return kNoEntry;
  auto kids = children(dir);
  auto it = std::lower_bound(kids.begin(), kids.end(), child_name,
                             [this](EntryId id, std::string_view n) { return name(id) < n; });
  if (it == kids.end() || name(*it) != child_name) return kNoEntry;
  return Resolve(*it);
}

EntryId LayerIndex::LookupPath(std::string_view p) const {
  EntryId cur = kRootEntry;
  while (!p.empty()) {
    size_t slash = p.find('/');
    std::string_view part = p.substr(0, slash);
    p = slash == std::string_view::npos ? std::string_view() : p.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    cur = Lookup(cur, part);
    if (cur == kNoEntry) return kNoEntry;
  }
  return cur;
}

std::span<const Xattr> LayerIndex::xattrs(EntryId id) const {
  const EntryAttr& e = entries_[id];
  return std::span<const Xattr>(xattrs_.data() + e.xattr_begin, e.xattr_count);
}

ChunkRange LayerIndex::ChunksFor(EntryId file, uint64_t offset, uint64_t length) const {
  const EntryAttr& e = entries_[Resolve(file)];
  if (e.type != EntryType::kRegular || offset >= e.size || length == 0) return {};
  uint64_t end = e.data_offset + offset + std::min(length, e.size - offset);
  uint64_t start = e.data_offset + offset;
  auto begin = chunks_.begin() + e.first_chunk;
  auto stop = begin + e.chunk_count;
  auto by_offset = [](uint64_t off, const ChunkInfo& c) { return off < c.uncompressed_offset; };
  auto first = std::upper_bound(begin, stop, start, by_offset) - 1;
  auto last = std::upper_bound(first, stop, end - 1, by_offset);
  return {static_cast<uint32_t>(first - chunks_.begin()), static_cast<uint32_t>(last - first)};
}

size_t LayerIndex::MemoryUsage() const {
  size_t owners = 0;
  for (const auto& s : owner_names_) owners += sizeof(s) + s.capacity();
  return entries_.capacity() * sizeof(EntryAttr) + arena_size_ + children_.capacity() * sizeof(EntryId) +
         xattrs_.capacity() * sizeof(Xattr) + chunks_.capacity() * sizeof(ChunkInfo) +
         (startup_chunks_.capacity() + startup_ranks_.capacity()) * sizeof(uint32_t) + owners +
         (checkpoints_ == nullptr ? 0 : checkpoints_->MemoryUsage());
}

}  // namespace tide::format
