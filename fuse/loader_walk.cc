#include "fuse/loader_walk.h"

#include <algorithm>
#include <array>
#include <filesystem>

#include "format/elf_load_ranges.h"
#include "format/python_modules.h"
#include "fuse/layer_file_reader.h"
#include "fuse/overlay_view.h"

namespace tide::fuse {
namespace {

using format::EntryId;
using format::EntryType;
using format::IsExtensionModule;
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
// A C++ library's constructors sit together (the linker gathers .text.startup); spread over more
// chunks than this they are a guess too wide to pay for up front.
constexpr size_t kMaxConstructorChunks = 16;
constexpr uint64_t kMaxInitArrayBytes = 32 << 10;  // 4096 constructors
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

std::string Normalized(const std::string& path) {
  std::string p = std::filesystem::path(path).lexically_normal().string();
  size_t start = p.find_first_not_of('/');
  return start == std::string::npos ? std::string() : p.substr(start);
}

}  // namespace

LoaderWalk::LoaderWalk(std::shared_ptr<const format::LayerIndex> index,
                       std::shared_ptr<fetch::ChunkFetcher> fetcher,
                       std::weak_ptr<fetch::ReadAheadWorkers> walkers,
                       std::vector<std::weak_ptr<LoaderWalk>> lowers)
    : index_(std::move(index)),
      fetcher_(std::move(fetcher)),
      walkers_(std::move(walkers)),
      lowers_(std::move(lowers)) {}

std::shared_ptr<LoaderWalk> LoaderWalk::Create(std::shared_ptr<const format::LayerIndex> index,
                                               std::shared_ptr<fetch::ChunkFetcher> fetcher,
                                               std::weak_ptr<fetch::ReadAheadWorkers> walkers,
                                               std::vector<std::weak_ptr<LoaderWalk>> lowers) {
  auto walk = std::make_shared<LoaderWalk>(std::move(index), std::move(fetcher), std::move(walkers),
                                           std::move(lowers));
  for (const std::weak_ptr<LoaderWalk>& lower : walk->lowers_) {
    if (std::shared_ptr<LoaderWalk> l = lower.lock()) l->AddUpper(walk);
  }
  return walk;
}

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
    (void)walkers->PostLater([self = shared_from_this(), file] { self->FetchModule(file); });
    ++queued;
  }
}

void LoaderWalk::FetchModule(EntryId id) {
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
  const std::vector<std::shared_ptr<LoaderWalk>> layers = MergedLayers();
  for (uint64_t name_at : d.needed) {
    const std::string name = string_at(name_at, kMaxName);
    if (name.empty()) continue;
    const Found library = FindLibrary(layers, name, origin, runpath);
    if (library.walk != nullptr && library.walk->Claim(library.id)) library.walk->Queue(library.id);
  }
  if (!fetcher_->options().constructor_code) return;
  // Behind every library queued (PostLater): the loader runs constructors only once it has loaded
  // and relocated them all, and a walk held up by constructors falls behind the loader.
  std::shared_ptr<fetch::ReadAheadWorkers> walkers = walkers_.lock();
  if (walkers != nullptr) {
    (void)walkers->PostLater(
        [self = shared_from_this(), id, layout, d] { self->FetchConstructors(id, layout, d); });
  }
}

void LoaderWalk::FetchConstructors(EntryId id, const format::ElfLayout& layout,
                                   const format::ElfDynamic& dynamic) {
  std::string array;
  uint64_t array_at = 0;
  if (dynamic.init_array_size != 0 && layout.OffsetOf(dynamic.init_array_vaddr, &array_at)) {
    array.resize(std::min(dynamic.init_array_size, kMaxInitArrayBytes));
    absl::StatusOr<size_t> n =
        ReadLayerFile(*index_, *fetcher_, id, array_at, std::span<char>(array.data(), array.size()));
    array.resize(n.ok() ? *n : 0);
  }
  std::vector<uint32_t> chunks;
  for (uint64_t offset :
       format::ElfInitCode(layout, dynamic, std::span<const char>(array.data(), array.size()))) {
    const format::ChunkRange range = index_->ChunksFor(id, offset, 1);
    if (range.count == 0 || std::find(chunks.begin(), chunks.end(), range.first) != chunks.end()) continue;
    if (chunks.size() == kMaxConstructorChunks) return;
    chunks.push_back(range.first);
  }
  std::sort(chunks.begin(), chunks.end());
  for (size_t i = 0; i < chunks.size();) {
    size_t j = i + 1;
    while (j < chunks.size() && chunks[j] == chunks[j - 1] + 1) ++j;
    if (!fetcher_->Ensure(chunks[i], chunks[j - 1], fetch::FetchPriority::kOnDemand).ok()) return;
    i = j;
  }
}

void LoaderWalk::AddUpper(std::weak_ptr<LoaderWalk> upper) {
  constexpr size_t kMaxUppers = 64;
  std::lock_guard lock(mu_);
  std::erase_if(uppers_, [](const std::weak_ptr<LoaderWalk>& u) { return u.expired(); });
  if (uppers_.size() < kMaxUppers) uppers_.push_back(std::move(upper));
}

std::vector<std::shared_ptr<LoaderWalk>> LoaderWalk::Stack() {
  std::vector<std::shared_ptr<LoaderWalk>> layers = MergedLayers();
  std::lock_guard lock(mu_);
  for (const std::weak_ptr<LoaderWalk>& upper : uppers_) {
    std::shared_ptr<LoaderWalk> walk = upper.lock();
    if (walk != nullptr && std::find(layers.begin(), layers.end(), walk) == layers.end()) {
      layers.push_back(std::move(walk));
    }
  }
  return layers;
}

std::vector<std::shared_ptr<LoaderWalk>> LoaderWalk::MergedLayers() {
  std::vector<std::shared_ptr<LoaderWalk>> layers = {shared_from_this()};
  for (const std::weak_ptr<LoaderWalk>& lower : lowers_) {
    if (std::shared_ptr<LoaderWalk> walk = lower.lock()) layers.push_back(std::move(walk));
  }
  return layers;
}

LoaderWalk::Found LoaderWalk::FindLibrary(std::span<const std::shared_ptr<LoaderWalk>> layers,
                                          std::string_view name, std::string_view origin,
                                          std::string_view runpath) {
  if (name.find('/') != std::string_view::npos) {
    return name.front() == '/' ? LookupMerged(layers, Normalized(std::string(name))) : Found{};
  }
  std::vector<std::string> dirs;
  for (std::string_view dir : SplitNonEmpty(runpath, ':')) {
    std::string expanded = ExpandOrigin(dir, origin);
    if (!expanded.empty() && expanded.front() == '/' && dirs.size() < kMaxSearchDirs)
      dirs.push_back(expanded);
  }
  for (std::string_view dir : kDefaultDirs) dirs.emplace_back(dir);
  for (const std::string& dir : dirs) {
    Found found = LookupMerged(layers, Normalized(dir + "/" + std::string(name)));
    if (found.walk != nullptr) return found;
  }
  return {};
}

LoaderWalk::Found LoaderWalk::LookupMerged(std::span<const std::shared_ptr<LoaderWalk>> layers,
                                           std::string path) {
  const std::string whiteout_prefix(kWhiteoutPrefix);
  for (int hop = 0; hop <= kMaxSymlinkHops; ++hop) {
    // The directory reached so far, as each layer has it (kNoEntry: absent there, or hidden).
    std::vector<EntryId> dirs(layers.size(), format::kRootEntry);
    std::string walked;
    bool redirected = false;
    const std::vector<std::string_view> parts = SplitNonEmpty(path, '/');
    for (size_t i = 0; i < parts.size() && !redirected; ++i) {
      // The topmost layer with the name wins; a whiteout of it or an opaque directory above ends
      // the search, as overlayfs merges them.
      size_t top = layers.size();
      EntryId entry = kNoEntry;
      for (size_t k = 0; k < layers.size(); ++k) {
        if (dirs[k] == kNoEntry) continue;
        const format::LayerIndex& index = *layers[k]->index_;
        entry = index.Lookup(dirs[k], parts[i]);
        if (entry != kNoEntry) {
          top = k;
          break;
        }
        if (index.Lookup(dirs[k], whiteout_prefix + std::string(parts[i])) != kNoEntry ||
            index.Lookup(dirs[k], kOpaqueMarker) != kNoEntry) {
          return {};
        }
      }
      if (top == layers.size()) return {};
      const format::LayerIndex& index = *layers[top]->index_;
      const EntryType type = index.type(entry);
      if (type == EntryType::kSymlink) {
        std::string rest;
        for (size_t k = i + 1; k < parts.size(); ++k) rest.append("/").append(parts[k]);
        const std::string_view target = index.link_target(entry);
        std::string redirect = target.starts_with('/') ? std::string() : walked + "/";
        redirect.append(target).append(rest);
        path = Normalized(redirect);
        redirected = true;
      } else if (i + 1 == parts.size()) {
        if (type != EntryType::kRegular) return {};
        return {layers[top], index.Resolve(entry)};
      } else if (type != EntryType::kDirectory) {
        return {};
      } else {
        // The merged directory: this layer's, and below it the same directory of each lower layer,
        // unless this one is opaque.
        const bool opaque = index.Lookup(entry, kOpaqueMarker) != kNoEntry;
        for (size_t k = 0; k < layers.size(); ++k) {
          if (k < top || (k > top && opaque) || dirs[k] == kNoEntry) {
            dirs[k] = kNoEntry;
            continue;
          }
          const EntryId d = k == top ? entry : layers[k]->index_->Lookup(dirs[k], parts[i]);
          dirs[k] = d != kNoEntry && layers[k]->index_->type(d) == EntryType::kDirectory ? d : kNoEntry;
        }
        walked.append("/").append(parts[i]);
      }
    }
    if (!redirected) return {};  // an empty path
  }
  return {};
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
