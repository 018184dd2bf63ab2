#ifndef TIDE_FUSE_IMPORT_WALK_H_
#define TIDE_FUSE_IMPORT_WALK_H_

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "fetch/chunk_fetcher.h"
#include "fetch/read_ahead_workers.h"
#include "format/layer_index.h"
#include "fuse/loader_walk.h"

namespace tide::fuse {

// Import read-ahead for one layer. Python imports a package's submodules one after another as its
// __init__ runs, each a cold read of its compiled module (or the head of its extension module) that
// waits for a round trip of its own: an AI stack's startup imports thousands. The names a package's
// compiled __init__ holds foretell them (format::PycNames). When a container reads the head of
// `P/__pycache__/__init__.<tag>.pyc`, this reads that file on the walker threads and, for each name
// N in it, fetches what an import of P.N would read next in P: the subpackage's
// `N/__pycache__/__init__.<tag>.pyc`, the module's `__pycache__/N.<tag>.pyc`, and the extension
// modules `N.*.so` (CPython's suffixes): each whole if no larger than the whole-file size, an
// extension module's head and loader segments otherwise (LoaderWalk::FetchModule), neighbours in one
// request. P is looked up in this layer and in every layer it shares a snapshot chain with
// (LoaderWalk::Stack): an image may compile its modules in another layer than the one that holds
// them. Each subpackage among them is then walked the same way as soon as its __init__ is in, one
// level down (deeper ones when the importer reads their parent's __init__). Its reads count as the
// workload's, as the loader walk's do: they are the importer's, made early. Once per package path,
// at most 4096 per mount, and 4096 names per package. Everything read here is bounded and comes from
// the layers' verified chunks; a malformed pyc only names nothing.
class ImportWalk : public std::enable_shared_from_this<ImportWalk> {
 public:
  // `loader_walk`: this layer's, which knows the layers it is stacked with and fetches the head and
  // loader segments of a large extension module; null: only this layer is searched, and only modules
  // small enough to fetch whole are fetched.
  ImportWalk(std::shared_ptr<const format::LayerIndex> index, std::shared_ptr<fetch::ChunkFetcher> fetcher,
             std::weak_ptr<fetch::ReadAheadWorkers> walkers, std::shared_ptr<LoaderWalk> loader_walk);

  // A container read the first bytes of file `id` (a resolved regular entry). Cheap unless `id` is a
  // package's compiled __init__ read for the first time.
  void OnHead(format::EntryId id);

 private:
  // A layer the walk looks in.
  struct Layer {
    std::shared_ptr<const format::LayerIndex> index;
    std::shared_ptr<fetch::ChunkFetcher> fetcher;
    std::shared_ptr<LoaderWalk> loader;  // null: large extension modules are left alone
  };
  // A file found in layers()[layer].
  struct Module {
    size_t layer = 0;
    format::EntryId id = format::kNoEntry;
  };
  // What an import of a package's names reads first.
  struct Modules {
    std::vector<Module> small;        // no larger than the whole-file size: fetched whole
    std::vector<Module> large;        // larger extension modules: head and loader segments
    std::vector<Module> subpackages;  // a subpackage's compiled __init__
  };
  // This layer first, then the ones stacked with it.
  std::vector<Layer> Layers() const;
  // On a walker thread: reads the compiled __init__ `init` of `at` (its package at `package`, a path
  // from the root) and fetches what its names foretell; below kMaxDepth, then walks the subpackages
  // among them. `queued`: when the walk was asked for.
  void Walk(const Layer& at, format::EntryId init, const std::string& package, const std::string& tag,
            int depth, std::chrono::steady_clock::time_point queued);
  // Queues the fetches of `modules` on `walkers`.
  void FetchModules(fetch::ReadAheadWorkers& walkers, const std::vector<Layer>& layers,
                    const Modules& modules);
  // Adds to `modules` the files an import of `name` reads first in directory `package` of layer
  // number `layer`.
  void Candidates(const Layer& in, size_t layer, format::EntryId package, std::string_view name,
                  std::string_view tag, Modules* modules) const;
  // Marks the package at `path` walked; false if it was already, or the walk is at its bound.
  bool Claim(std::string_view path);

  const std::shared_ptr<const format::LayerIndex> index_;
  const std::shared_ptr<fetch::ChunkFetcher> fetcher_;
  const std::weak_ptr<fetch::ReadAheadWorkers> walkers_;
  const std::shared_ptr<LoaderWalk> loader_walk_;
  std::mutex mu_;
  absl::flat_hash_set<std::string> packages_;
};

}  // namespace tide::fuse

#endif  // TIDE_FUSE_IMPORT_WALK_H_
