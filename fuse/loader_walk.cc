#include "fuse/loader_walk.h"

#include <algorithm>
#include <array>
#include <filesystem>

#include "format/elf_load_ranges.h"
#include "fuse/layer_file_reader.h"

namespace tide::fuse {
namespace {

using format::EntryId;
using format::EntryType;
using format::kNoEntry;

constexpr size_t kMaxWalked = 4096;
constexpr size_t kHeadBytes = 4096;  // where program headers sit in practice (ld.so reads 832)
constexpr size_t kMaxName = 256;
constexpr size_t kMaxRunpath = 4096;
constexpr int kMaxSymlinkHops = 16;
constexpr size_t kMaxSiblingDirs = 512;
constexpr size_t kMaxSiblingsPerDir = 64;
// A sibling is a guess: a larger one brings at most this much of its loader segments (an image
// author chooses their sizes), the rest when the loader asks.
constexpr uint64_t kMaxSiblingSegmentBytes = 16 << 20;
constexpr size_t kMaxSearchDirs = 32;
// Where the loader looks after RUNPATH when the image's ld.so.cache does not say otherwise.
constexpr std::array<std::string_view, 7> kDefaultDirs = {"/lib/x86_64-linux-gnu",
                                                          "/usr/lib/x86_64-linux-gnu",
                                                          "/lib/aarch64-linux-gnu",
                                                          "/usr/lib/aarch64-linux-gnu",
                                                          "/lib",
                                                          "/usr/lib",
                                                          "/usr/local/lib"};

std::vector<std::string_view> SplitNonEmpty(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  while (!s.empty()) {
    const size_t at = s.find(sep);
    std::string_view part = s.substr(0, at);
    if (!part.empty()) parts.push_back(part);
    s = at == std::string_view::npos ? std::string_view() : s.substr(at + 1);
  }
  return parts;
}

// A RUNPATH entry with $ORIGIN (or ${ORIGIN}) replaced by the object's directory.
std::string ExpandOrigin(std::string_view dir, std::string_view origin) {
  std::string out;
  while (!dir.empty()) {
    if (dir.starts_with("${ORIGIN}")) {
      out.append(origin);
      dir.remove_prefix(9);
    } else if (dir.starts_with("$ORIGIN")) {
      out.append(origin);
      dir.remove_prefix(7);
    } else {
      out.push_back(dir.front());
      dir.remove_prefix(1);
    }
  }
  return out;
}

// A name CPython imports as an extension module (its EXTENSION_SUFFIXES, less a bare ".so", which
// shared libraries also end in).
bool IsExtensionModule(std::string_view name) {
  return name.ends_with(".so") &&
         (name.find(".cpython-") != std::string_view::npos || name.ends_with(".abi3.so"));
}

std::string Normalized(const std::string& path) {
  std::string p = std::filesystem::path(path).lexically_normal().string();
  size_t start = p.find_first_not_of('/');
  return start == std::string::npos ? std::string() : p.substr(start);
}

}  // namespace

LoaderWalk::LoaderWalk(std::shared_ptr<const format::LayerIndex> index,
                       std::shared_ptr<fetch::ChunkFetcher> fetcher,
                       std::weak_ptr<fetch::ReadAheadWorkers> walkers)
    : index_(std::move(index)), fetcher_(std::move(fetcher)), walkers_(std::move(walkers)) {}

bool LoaderWalk::FetchSegments(EntryId id, std::span<const char> head) {
  const std::vector<format::FileRange> ranges = format::ElfLoadRanges(head, index_->attr(id).size);
  for (const format::FileRange& r : ranges) {
    const format::ChunkRange chunks = index_->ChunksFor(id, r.offset, r.length);
    if (chunks.count != 0) fetcher_->FetchAhead(chunks.first, chunks.first + chunks.count - 1);
  }
  return !ranges.empty();
}

void LoaderWalk::OnHead(EntryId id, std::span<const char> head) {
  if (!FetchSegments(id, head) || !Claim(id)) return;
  std::shared_ptr<fetch::ReadAheadWorkers> walkers = walkers_.lock();
  if (walkers == nullptr) return;
  std::string copy(head.data(), std::min(head.size(), kHeadBytes));
  (void)walkers->Post([self = shared_from_this(), id, copy = std::move(copy)] { self->Follow(id, copy); });
  if (fetcher_->options().extension_siblings && IsExtensionModule(index_->name(id))) {
    QueueSiblings(index_->parent(id), id);
  }
}

void LoaderWalk::QueueSiblings(EntryId dir, EntryId except) {
  if (dir == kNoEntry) return;
  {
    std::lock_guard lock(mu_);
    if (sibling_dirs_.size() >= kMaxSiblingDirs || !sibling_dirs_.insert(dir).second) return;
  }
  std::shared_ptr<fetch::ReadAheadWorkers> walkers = walkers_.lock();
  if (walkers == nullptr) return;
  size_t queued = 0;
  for (EntryId child : index_->children(dir)) {
    if (queued == kMaxSiblingsPerDir) break;
    if (!IsExtensionModule(index_->name(child))) continue;
    const EntryId file = index_->Resolve(child);  // a hardlink's target
    if (file == except || index_->type(file) != EntryType::kRegular) continue;
    // Not claimed: the container's own read of its head still walks its dependencies.
    (void)walkers->PostLater([self = shared_from_this(), file] { self->FetchSibling(file); });
    ++queued;
  }
}

void LoaderWalk::FetchSibling(EntryId id) {
  const uint64_t size = index_->attr(id).size;
  if (size == 0) return;
  if (size <= fetcher_->options().whole_file_bytes) {
    (void)Fetch(id, 0, size);
    return;
  }
  // On this thread, not the read-ahead workers': a guess must not take them from container reads.
  std::string head(kHeadBytes, '\0');
  absl::StatusOr<size_t> n =
      ReadLayerFile(*index_, *fetcher_, id, 0, std::span<char>(head.data(), head.size()));
  if (!n.ok()) return;
  uint64_t budget = kMaxSiblingSegmentBytes;
  for (const format::FileRange& r : format::ElfLoadRanges(std::span<const char>(head.data(), *n), size)) {
    const uint64_t length = std::min<uint64_t>(r.length, budget);
    if (length == 0) return;
    budget -= length;
    if (!Fetch(id, r.offset, length)) return;
  }
}

bool LoaderWalk::Fetch(EntryId id, uint64_t offset, uint64_t length) {
  const format::ChunkRange chunks = index_->ChunksFor(id, offset, length);
  return chunks.count == 0 ||
         fetcher_->Ensure(chunks.first, chunks.first + chunks.count - 1, fetch::FetchPriority::kOnDemand)
             .ok();
}

bool LoaderWalk::Claim(EntryId id) {
  std::lock_guard lock(mu_);
  if (walked_.size() >= kMaxWalked) return false;
  return walked_.insert(id).second;
}

void LoaderWalk::Queue(EntryId id) {
  std::shared_ptr<fetch::ReadAheadWorkers> walkers = walkers_.lock();
  if (walkers != nullptr) (void)walkers->Post([self = shared_from_this(), id] { self->Visit(id); });
}

void LoaderWalk::Visit(EntryId id) {
  const uint64_t size = index_->attr(id).size;
  // A library small enough to be read whole is fetched whole in one request: its head, tables and
  // dynamic section then cost this thread no further round trips, and the loader finds all of it in.
  if (size <= fetcher_->options().whole_file_bytes && !Fetch(id, 0, size)) return;
  std::string head(std::min<uint64_t>(size, kHeadBytes), '\0');
  absl::StatusOr<size_t> n =
      ReadLayerFile(*index_, *fetcher_, id, 0, std::span<char>(head.data(), head.size()));
  if (!n.ok()) return;
  head.resize(*n);
  // The segments go to the read-ahead workers (the loader reads them anyway if none is free); this
  // thread moves on to the dependencies.
  if (FetchSegments(id, head)) Follow(id, head);
}

void LoaderWalk::Follow(EntryId id, const std::string& head) {
  const uint64_t size = index_->attr(id).size;
  const format::ElfLayout layout = format::ElfLayoutOf(std::span<const char>(head.data(), head.size()), size);
  if (layout.dynamic.length == 0) return;
  std::string dynamic(layout.dynamic.length, '\0');
  absl::StatusOr<size_t> n = ReadLayerFile(*index_, *fetcher_, id, layout.dynamic.offset,
                                           std::span<char>(dynamic.data(), dynamic.size()));
  if (!n.ok()) return;
  dynamic.resize(*n);
  const format::ElfDynamic d = format::ParseElfDynamic(std::span<const char>(dynamic.data(), dynamic.size()));
  uint64_t strtab = 0;
  if (!layout.OffsetOf(d.strtab_vaddr, &strtab)) return;
  auto string_at = [&](uint64_t offset, size_t max) {
    if (offset >= d.strtab_size) return std::string();
    return ReadString(id, strtab + offset,
                      static_cast<size_t>(std::min<uint64_t>(max, d.strtab_size - offset)));
  };
  const std::string runpath = d.has_runpath ? string_at(d.runpath, kMaxRunpath) : std::string();
  const std::string path(index_->path(id));
  const std::string origin = std::filesystem::path("/" + path).parent_path().string();
  for (uint64_t name_at : d.needed) {
    const std::string name = string_at(name_at, kMaxName);
    if (name.empty()) continue;
    const EntryId library = FindLibrary(name, origin, runpath);
    if (library != kNoEntry && Claim(library)) Queue(library);
  }
}

EntryId LoaderWalk::FindLibrary(std::string_view name, std::string_view origin,
                                std::string_view runpath) const {
  if (name.find('/') != std::string_view::npos) {
    return name.front() == '/' ? LookupFollowing(Normalized(std::string(name))) : kNoEntry;
  }
  std::vector<std::string> dirs;
  for (std::string_view dir : SplitNonEmpty(runpath, ':')) {
    std::string expanded = ExpandOrigin(dir, origin);
    if (!expanded.empty() && expanded.front() == '/' && dirs.size() < kMaxSearchDirs)
      dirs.push_back(expanded);
  }
  for (std::string_view dir : kDefaultDirs) dirs.emplace_back(dir);
  for (const std::string& dir : dirs) {
    const EntryId found = LookupFollowing(Normalized(dir + "/" + std::string(name)));
    if (found != kNoEntry) return found;
  }
  return kNoEntry;
}

EntryId LoaderWalk::LookupFollowing(std::string path) const {
  for (int hop = 0; hop <= kMaxSymlinkHops; ++hop) {
    EntryId cur = format::kRootEntry;
    std::string walked;
    bool redirected = false;
    const std::vector<std::string_view> parts = SplitNonEmpty(path, '/');
    for (size_t i = 0; i < parts.size(); ++i) {
      if (index_->type(cur) != EntryType::kDirectory) return kNoEntry;
      const EntryId next = index_->Lookup(cur, parts[i]);
      if (next == kNoEntry) return kNoEntry;
      if (index_->type(next) == EntryType::kSymlink) {
        const std::string_view target = index_->link_target(next);
        std::string rest;
        for (size_t k = i + 1; k < parts.size(); ++k) rest.append("/").append(parts[k]);
        std::string redirect = target.starts_with('/') ? std::string() : walked + "/";
        redirect.append(target).append(rest);
        path = Normalized(redirect);
        redirected = true;
        break;
      }
      walked.append("/").append(parts[i]);
      cur = next;
    }
    if (!redirected) return index_->type(cur) == EntryType::kRegular ? index_->Resolve(cur) : kNoEntry;
  }
  return kNoEntry;
}

std::string LoaderWalk::ReadString(EntryId id, uint64_t offset, size_t max) const {
  std::string s(max, '\0');
  absl::StatusOr<size_t> n =
      ReadLayerFile(*index_, *fetcher_, id, offset, std::span<char>(s.data(), s.size()));
  if (!n.ok()) return std::string();
  s.resize(*n);
  const size_t end = s.find('\0');
  if (end == std::string::npos) return std::string();  // unterminated within the bound: not a name
  s.resize(end);
  return s;
}

}  // namespace tide::fuse
