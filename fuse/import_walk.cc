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
// A compiled __init__ is a few KiB; a larger one is read this far.
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
  if (package == kNoEntry) return;
  std::string path(index_->path(package));
  if (!Claim(path)) return;
  std::shared_ptr<fetch::ReadAheadWorkers> walkers = walkers_.lock();
  if (walkers == nullptr) return;
  (void)walkers->Post([self = shared_from_this(), id, path = std::move(path), tag = std::string(tag),
                       queued = std::chrono::steady_clock::now()] {
    self->Walk(Layer{self->index_, self->fetcher_, self->loader_walk_}, id, path, tag, 0, queued);
  });
}

std::vector<ImportWalk::Layer> ImportWalk::Layers() const {
  std::vector<Layer> layers = {{index_, fetcher_, loader_walk_}};
  if (loader_walk_ == nullptr) return layers;
  for (const std::shared_ptr<LoaderWalk>& walk : loader_walk_->Stack()) {
    if (walk != loader_walk_) layers.push_back({walk->index(), walk->fetcher(), walk});
  }
  return layers;
}

void ImportWalk::Walk(const Layer& at, EntryId init, const std::string& package, const std::string& tag,
                      int depth, std::chrono::steady_clock::time_point queued) {
  std::string pyc(std::min<uint64_t>(at.index->attr(init).size, kMaxInitBytes), '\0');
  absl::StatusOr<size_t> n =
      ReadLayerFile(*at.index, *at.fetcher, init, 0, std::span<char>(pyc.data(), pyc.size()));
  if (!n.ok()) return;
  const std::vector<std::string> names = format::PycNames(std::span<const char>(pyc.data(), *n), kMaxNames);
  const std::vector<Layer> layers = Layers();
  Modules modules;
  for (size_t i = 0; i < layers.size(); ++i) {
    const EntryId dir = layers[i].index->LookupPath(package);
    if (dir == kNoEntry || layers[i].index->type(dir) != EntryType::kDirectory) continue;
    for (const std::string& name : names) Candidates(layers[i], i, dir, name, tag, &modules);
  }
  if (log::Enabled(log::Level::kTrace)) {
    // How long the walk waited for a walker thread says whether it runs an import ahead or behind.
    log::Write(
        log::Level::kTrace, "import walk",
        {{"package", package},
         {"depth", absl::StrCat(depth)},
         {"names", absl::StrCat(names.size())},
         {"modules", absl::StrCat(modules.small.size() + modules.large.size())},
         {"layers", absl::StrCat(layers.size())},
         {"queued_ms",
          absl::StrCat(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - queued)
                           .count())}});
  }
  std::shared_ptr<fetch::ReadAheadWorkers> walkers = walkers_.lock();
  if (walkers == nullptr) return;
  FetchModules(*walkers, layers, modules);
  if (depth >= kMaxDepth) return;
  // A subpackage's __init__ names what it imports in turn: walking it as soon as it arrives, rather
  // than when the importer reads it, fetches those while the importer is still busy with the
  // modules before it. Behind the fetches (PostLater): it waits for the __init__ to arrive.
  for (const Module& sub : modules.subpackages) {
    const Layer& in = layers[sub.layer];
    const EntryId dir = in.index->parent(in.index->parent(sub.id));  // <dir>/__pycache__/__init__...
    if (dir == kNoEntry) continue;
    std::string path(in.index->path(dir));
    if (!Claim(path)) continue;
    (void)walkers->PostLater([self = shared_from_this(), in, sub, path = std::move(path), tag, depth] {
      self->Walk(in, sub.id, path, tag, depth + 1, std::chrono::steady_clock::now());
    });
  }
}

void ImportWalk::FetchModules(fetch::ReadAheadWorkers& walkers, const std::vector<Layer>& layers,
                              const Modules& modules) {
  for (size_t layer = 0; layer < layers.size(); ++layer) {
    // Modules of one package sit next to each other in a layer: one request for each run of chunks.
    std::vector<format::ChunkRange> ranges;
    for (const Module& m : modules.small) {
      if (m.layer != layer) continue;
      const format::ChunkRange r =
          layers[layer].index->ChunksFor(m.id, 0, layers[layer].index->attr(m.id).size);
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
        (void)walkers.Post([fetcher = layers[layer].fetcher, first, end] {
          (void)fetcher->Ensure(first, end, fetch::FetchPriority::kOnDemand);
        });
        if (end == last) break;  // `first += kMaxRunChunks` could wrap past the last chunk index
      }
      i = j;
    }
  }
  for (const Module& m : modules.large) {
    if (layers[m.layer].loader == nullptr) continue;
    (void)walkers.Post([walk = layers[m.layer].loader, id = m.id] { walk->FetchModule(id); });
  }
}

void ImportWalk::Candidates(const Layer& in, size_t layer, EntryId package, std::string_view name,
                            std::string_view tag, Modules* modules) const {
  const format::LayerIndex& index = *in.index;
  const uint64_t whole = fetcher_->options().whole_file_bytes;
  auto add_pyc = [&](EntryId dir, std::string_view module) {
    const EntryId cache_dir = index.Lookup(dir, kPycache);
    if (cache_dir == kNoEntry) return kNoEntry;
    const std::string file = std::string(module) + "." + std::string(tag) + ".pyc";
    const EntryId id = index.Lookup(cache_dir, file);  // resolved
    if (id == kNoEntry || index.type(id) != EntryType::kRegular || index.attr(id).size > whole)
      return kNoEntry;
    modules->small.push_back({layer, id});
    return id;
  };
  const EntryId sub = index.Lookup(package, name);
  if (sub != kNoEntry && index.type(sub) == EntryType::kDirectory) {
    const EntryId sub_init = add_pyc(sub, "__init__");
    if (sub_init != kNoEntry) modules->subpackages.push_back({layer, sub_init});
  }
  add_pyc(package, name);
  // Children are sorted by name: the extension modules of `name` follow `name.` directly.
  const std::string prefix = std::string(name) + ".";
  const std::span<const EntryId> children = index.children(package);
  auto it = std::lower_bound(children.begin(), children.end(), prefix,
                             [&](EntryId child, const std::string& key) { return index.name(child) < key; });
  for (; it != children.end() && index.name(*it).starts_with(prefix); ++it) {
    if (!format::IsExtensionModule(index.name(*it))) continue;
    const EntryId id = index.Resolve(*it);
    if (index.type(id) != EntryType::kRegular) continue;
    (index.attr(id).size <= whole ? modules->small : modules->large).push_back({layer, id});
  }
}

bool ImportWalk::Claim(std::string_view path) {
  std::lock_guard lock(mu_);
  if (packages_.size() >= kMaxPackages) return false;
  return packages_.emplace(path).second;
}

}  // namespace tide::fuse
