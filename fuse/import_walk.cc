#include "fuse/import_walk.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "format/python_modules.h"
#include "fuse/layer_file_reader.h"

namespace tide::fuse {
namespace {

using format::EntryId;
using format::EntryType;
using format::kNoEntry;

constexpr size_t kMaxPackages = 4096;
// A package's __init__ that re-exports its API names thousands of things (sympy's ~1,500), and the
// submodules it imports come last: their names are code names, which marshal writes after constants.
constexpr size_t kMaxNames = 4096;
// A compiled __init__ names its imports near its start (its code's names come first); a larger one
// is read this far.
constexpr size_t kMaxInitBytes = 1 << 20;
constexpr std::string_view kPycache = "__pycache__";
// How far below the package the importer read a walk goes by itself: its subpackages' __init__s
// (depth 1), not theirs. Each step down is a guess on a guess.
constexpr int kMaxDepth = 1;
// A run of neighbouring modules is fetched in requests of at most this many chunks, on walkers in
// parallel, so the first module imported does not wait behind the whole run.
constexpr uint32_t kMaxRunChunks = 8;

}  // namespace

ImportWalk::ImportWalk(std::shared_ptr<const format::LayerIndex> index,
                       std::shared_ptr<fetch::ChunkFetcher> fetcher,
                       std::weak_ptr<fetch::ReadAheadWorkers> walkers,
                       std::shared_ptr<LoaderWalk> loader_walk)
    : index_(std::move(index)),
      fetcher_(std::move(fetcher)),
      walkers_(std::move(walkers)),
      loader_walk_(std::move(loader_walk)) {}

void ImportWalk::OnHead(EntryId id) {
  std::string_view tag;
  if (!format::IsCompiledInit(index_->name(id), &tag)) return;
  const EntryId cache_dir = index_->parent(id);
  if (cache_dir == kNoEntry || index_->name(cache_dir) != kPycache) return;
  const EntryId package = index_->parent(cache_dir);
  if (package == kNoEntry || !Claim(package)) return;
  std::shared_ptr<fetch::ReadAheadWorkers> walkers = walkers_.lock();
  if (walkers == nullptr) return;
  (void)walkers->Post(
      [self = shared_from_this(), id, package, tag = std::string(tag),
       queued = std::chrono::steady_clock::now()] { self->Walk(id, package, tag, 0, queued); });
}

void ImportWalk::Walk(EntryId init, EntryId package, const std::string& tag, int depth,
                      std::chrono::steady_clock::time_point queued) {
  std::string pyc(std::min<uint64_t>(index_->attr(init).size, kMaxInitBytes), '\0');
  absl::StatusOr<size_t> n =
      ReadLayerFile(*index_, *fetcher_, init, 0, std::span<char>(pyc.data(), pyc.size()));
  if (!n.ok()) return;
  Modules modules;
  const std::vector<std::string> names = format::PycNames(std::span<const char>(pyc.data(), *n), kMaxNames);
  for (const std::string& name : names) Candidates(package, name, tag, &modules);
  if (log::Enabled(log::Level::kTrace)) {
    // How long the walk waited for a walker thread says whether it runs an import ahead or behind.
    log::Write(
        log::Level::kTrace, "import walk",
        {{"package", index_->path(package)},
         {"depth", absl::StrCat(depth)},
         {"names", absl::StrCat(names.size())},
         {"modules", absl::StrCat(modules.small.size() + modules.large.size())},
         {"queued_ms",
          absl::StrCat(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - queued)
                           .count())}});
  }
  std::shared_ptr<fetch::ReadAheadWorkers> walkers = walkers_.lock();
  if (walkers == nullptr) return;
  FetchModules(*walkers, modules);
  if (depth >= kMaxDepth) return;
  // A subpackage's __init__ names what it imports in turn: walking it as soon as it arrives, rather
  // than when the importer reads it, fetches those while the importer is still busy with the
  // modules before it. Behind the fetches (PostLater): it waits for the __init__ to arrive.
  for (const std::pair<EntryId, EntryId>& subpackage : modules.subpackages) {
    const EntryId sub = subpackage.first;
    const EntryId sub_init = subpackage.second;
    if (!Claim(sub)) continue;
    (void)walkers->PostLater([self = shared_from_this(), sub_init, sub, tag, depth] {
      self->Walk(sub_init, sub, tag, depth + 1, std::chrono::steady_clock::now());
    });
  }
}

void ImportWalk::FetchModules(fetch::ReadAheadWorkers& walkers, const Modules& modules) {
  // Modules of one package sit next to each other in the layer: one request for each run of chunks.
  std::vector<format::ChunkRange> ranges;
  for (EntryId id : modules.small) {
    const format::ChunkRange r = index_->ChunksFor(id, 0, index_->attr(id).size);
    if (r.count != 0) ranges.push_back(r);
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const format::ChunkRange& a, const format::ChunkRange& b) { return a.first < b.first; });
  for (size_t i = 0; i < ranges.size();) {
    uint32_t last = ranges[i].first + ranges[i].count - 1;
    size_t j = i + 1;
    for (; j < ranges.size() && ranges[j].first <= last + 1; ++j) {
      last = std::max(last, ranges[j].first + ranges[j].count - 1);
    }
    for (uint32_t first = ranges[i].first; first <= last; first += kMaxRunChunks) {
      const uint32_t end = first + std::min(kMaxRunChunks - 1, last - first);
      (void)walkers.Post([self = shared_from_this(), first, end] { self->Fetch(first, end); });
      if (end == last) break;  // `first += kMaxRunChunks` could wrap past the last chunk index
    }
    i = j;
  }
  if (loader_walk_ == nullptr) return;
  for (EntryId id : modules.large) {
    (void)walkers.Post([walk = loader_walk_, id] { walk->FetchModule(id); });
  }
}

void ImportWalk::Candidates(EntryId package, std::string_view name, std::string_view tag,
                            Modules* modules) const {
  const uint64_t whole = fetcher_->options().whole_file_bytes;
  auto add_pyc = [&](EntryId dir, std::string_view module) {
    const EntryId cache_dir = dir == kNoEntry ? kNoEntry : index_->Lookup(dir, kPycache);
    if (cache_dir == kNoEntry) return kNoEntry;
    const std::string file = std::string(module) + "." + std::string(tag) + ".pyc";
    const EntryId entry = index_->Lookup(cache_dir, file);
    if (entry == kNoEntry) return kNoEntry;
    const EntryId id = index_->Resolve(entry);
    if (index_->type(id) != EntryType::kRegular || index_->attr(id).size > whole) return kNoEntry;
    modules->small.push_back(id);
    return id;
  };
  const EntryId sub = index_->Lookup(package, name);
  if (sub != kNoEntry && index_->type(sub) == EntryType::kDirectory) {
    const EntryId sub_init = add_pyc(sub, "__init__");
    if (sub_init != kNoEntry) modules->subpackages.emplace_back(sub, sub_init);
  }
  add_pyc(package, name);
  // Children are sorted by name: the extension modules of `name` follow `name.` directly.
  const std::string prefix = std::string(name) + ".";
  const std::span<const EntryId> children = index_->children(package);
  auto it =
      std::lower_bound(children.begin(), children.end(), prefix,
                       [&](EntryId child, const std::string& key) { return index_->name(child) < key; });
  for (; it != children.end() && index_->name(*it).starts_with(prefix); ++it) {
    if (!format::IsExtensionModule(index_->name(*it))) continue;
    const EntryId id = index_->Resolve(*it);
    if (index_->type(id) != EntryType::kRegular) continue;
    (index_->attr(id).size <= whole ? modules->small : modules->large).push_back(id);
  }
}

void ImportWalk::Fetch(uint32_t first, uint32_t last) {
  (void)fetcher_->Ensure(first, last, fetch::FetchPriority::kOnDemand);
}

bool ImportWalk::Claim(EntryId package) {
  std::lock_guard lock(mu_);
  if (packages_.size() >= kMaxPackages) return false;
  return packages_.insert(package).second;
}

}  // namespace tide::fuse
