#ifndef TIDE_FUSE_IMPORT_WALK_H_
#define TIDE_FUSE_IMPORT_WALK_H_

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
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
// request. Each subpackage among them is then walked the same way as soon as its __init__ is in,
// one level down (deeper ones when the importer reads their parent's __init__). Its reads count as
// the workload's, as the loader walk's do: they are the importer's, made early. Once per package, at most
// 4096 packages per mount and 4096 names per package; only this layer's files (a package rarely spans
// layers). Everything read here is bounded and comes from the layer's verified chunks; a malformed pyc only
// names nothing.
class ImportWalk : public std::enable_shared_from_this<ImportWalk> {
 public:
  // `loader_walk`: fetches the head and loader segments of a large extension module; null: only
  // modules small enough to fetch whole are fetched.
  ImportWalk(std::shared_ptr<const format::LayerIndex> index, std::shared_ptr<fetch::ChunkFetcher> fetcher,
             std::weak_ptr<fetch::ReadAheadWorkers> walkers, std::shared_ptr<LoaderWalk> loader_walk);

  // A container read the first bytes of file `id` (a resolved regular entry). Cheap unless `id` is a
  // package's compiled __init__ read for the first time.
  void OnHead(format::EntryId id);

 private:
  // What an import of a package's names reads first.
  struct Modules {
    std::vector<format::EntryId> small;  // no larger than the whole-file size: fetched whole
    std::vector<format::EntryId> large;  // larger extension modules: head and loader segments
    std::vector<std::pair<format::EntryId, format::EntryId>> subpackages;  // directory, its __init__
  };
  // On a walker thread: reads the compiled __init__ `init` of package directory `package` and fetches
  // what its names foretell; below kMaxDepth, then walks the subpackages among them. `queued`: when
  // the walk was asked for.
  void Walk(format::EntryId init, format::EntryId package, const std::string& tag, int depth,
            std::chrono::steady_clock::time_point queued);
  // Queues the fetches of `modules` on `walkers`.
  void FetchModules(fetch::ReadAheadWorkers& walkers, const Modules& modules);
  // Adds to `modules` the files an import of `package`.`name` reads first.
  void Candidates(format::EntryId package, std::string_view name, std::string_view tag,
                  Modules* modules) const;
  // On a walker thread: makes chunks [first, last] present as a container read would.
  void Fetch(uint32_t first, uint32_t last);
  // Marks `package` walked; false if it was already, or the walk is at its bound.
  bool Claim(format::EntryId package);

  const std::shared_ptr<const format::LayerIndex> index_;
  const std::shared_ptr<fetch::ChunkFetcher> fetcher_;
  const std::weak_ptr<fetch::ReadAheadWorkers> walkers_;
  const std::shared_ptr<LoaderWalk> loader_walk_;
  std::mutex mu_;
  absl::flat_hash_set<format::EntryId> packages_;
};

}  // namespace tide::fuse

#endif  // TIDE_FUSE_IMPORT_WALK_H_
