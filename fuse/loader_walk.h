#ifndef TIDE_FUSE_LOADER_WALK_H_
#define TIDE_FUSE_LOADER_WALK_H_

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "fetch/chunk_fetcher.h"
#include "fetch/read_ahead_workers.h"
#include "format/elf_load_ranges.h"
#include "format/layer_index.h"

namespace tide::fuse {

// Loader read-ahead for one layer. A process that maps a shared object next maps every library the
// object names in DT_NEEDED, then theirs, one after another, each a cold read of its head, tables and
// writable segment: an AI image's startup loads hundreds of them (torch, OpenCV and what they link).
// When the head of an ELF file is read (a small one is being fetched whole already), this fetches
// the segments the loader reads of it (format::ElfLoadRanges) and, on the walker threads, follows its
// DT_NEEDED names through the layer (RUNPATH with $ORIGIN, then the standard library directories;
// symlinks followed), doing the same for each library found, several at once, so their bytes are in
// or on the way before the loader asks. A library no larger than the whole-file size is fetched
// whole in one request: a Python extension module and most of what it links are that small. Its
// reads count as the workload's (they are the loader's, made early): background prefetch gives way
// to them, and a forward walk through a library directory widens the neighbour read-ahead.
// The head of a Python extension module also brings the other extension modules in its directory
// (whole if small, else head and loader segments), after the walk's own steps: a package imports
// several of its modules in turn. Once an object's dependencies are queued, the walk also fetches
// the code of its constructors, which the loader runs as soon as the objects are relocated. A
// library this layer lacks is looked for in the layers under it (`lowers`, top first: the loader
// sees them merged) unless this layer hides it (a whiteout, an opaque directory), and walked there
// by that layer's walk. Each file is walked once per mount, at most 4096 files. Everything read here
// is bounded and comes from the layer's verified chunks; a malformed object only ends its own walk.
class LoaderWalk : public std::enable_shared_from_this<LoaderWalk> {
 public:
  // `lowers`: the walks of the layers under this one in its snapshot chain, top first; empty: the
  // walk stays in this layer. Each of them learns of this one (AddUpper).
  static std::shared_ptr<LoaderWalk> Create(std::shared_ptr<const format::LayerIndex> index,
                                            std::shared_ptr<fetch::ChunkFetcher> fetcher,
                                            std::weak_ptr<fetch::ReadAheadWorkers> walkers,
                                            std::vector<std::weak_ptr<LoaderWalk>> lowers = {});
  // Create, without telling the lowers.
  LoaderWalk(std::shared_ptr<const format::LayerIndex> index, std::shared_ptr<fetch::ChunkFetcher> fetcher,
             std::weak_ptr<fetch::ReadAheadWorkers> walkers,
             std::vector<std::weak_ptr<LoaderWalk>> lowers = {});

  // A container read the first bytes of file `id` (a resolved regular entry): `head`.
  void OnHead(format::EntryId id, std::span<const char> head);
  // On a walker thread: fetches a module the process is likely to load soon (an extension module)
  // whole, or its head and at most 16 MiB of its loader segments if larger. Its dependencies are
  // left to the walk its loader's read of the head starts.
  void FetchModule(format::EntryId id);

  // A layer mounted over this one in some snapshot chain (its `lowers` hold this walk). At most 64
  // are kept; an unmounted one drops out.
  void AddUpper(std::weak_ptr<LoaderWalk> upper);
  // This layer's walk first, then those of the layers it shares a snapshot chain with that are still
  // mounted: the ones under it (top first), then the ones over it. Where one package's files may
  // be spread (a later layer compiles its modules, an earlier one holds the libraries).
  std::vector<std::shared_ptr<LoaderWalk>> Stack();
  const std::shared_ptr<const format::LayerIndex>& index() const { return index_; }
  const std::shared_ptr<fetch::ChunkFetcher>& fetcher() const { return fetcher_; }

 private:
  // Fetches ahead the object's loader segments; true if it is an ELF object.
  bool FetchSegments(format::EntryId id, std::span<const char> head);
  // On a walker thread: reads the object's dynamic section and queues the libraries it needs.
  void Follow(format::EntryId id, const std::string& head);
  // On a walker thread: fetches the chunks holding the object's constructors (at most 16).
  void FetchConstructors(format::EntryId id, const format::ElfLayout& layout,
                         const format::ElfDynamic& dynamic);
  // On a walker thread: reads a library's head, fetches its segments ahead and follows it.
  void Visit(format::EntryId id);
  // Queues, after everything queued for the walk, the fetch of the extension modules in directory
  // `dir` other than `except`, once per directory.
  void QueueSiblings(format::EntryId dir, format::EntryId except);
  // On a walker thread: makes [offset, offset + length) of `id` present, as the loader's read would;
  // false if that failed.
  bool Fetch(format::EntryId id, uint64_t offset, uint64_t length);
  // Marks `id` walked; false if it was already, or the walk is at its bound.
  bool Claim(format::EntryId id);
  void Queue(format::EntryId id);
  // A library found: the walk of the layer that holds it, and its entry there.
  struct Found {
    std::shared_ptr<LoaderWalk> walk;
    format::EntryId id = format::kNoEntry;
  };
  // This layer's walk, then those of the layers under it still mounted, top first.
  std::vector<std::shared_ptr<LoaderWalk>> MergedLayers();
  // The library `name` as the loader would find it from an object in directory `origin`: directory
  // by directory, in the merged view of `layers` (MergedLayers).
  static Found FindLibrary(std::span<const std::shared_ptr<LoaderWalk>> layers, std::string_view name,
                           std::string_view origin, std::string_view runpath);
  // `path` (normalized, relative to the root) in the merged view of `layers` (top first: whiteouts
  // and opaque directories hide what is under them), with symlinks followed in every component: a
  // regular file's layer and resolved entry, or nothing.
  static Found LookupMerged(std::span<const std::shared_ptr<LoaderWalk>> layers, std::string path);
  // Reads up to `max` bytes at `offset` of `id`, stopping at the first NUL.
  std::string ReadString(format::EntryId id, uint64_t offset, size_t max) const;

  const std::shared_ptr<const format::LayerIndex> index_;
  const std::shared_ptr<fetch::ChunkFetcher> fetcher_;
  const std::weak_ptr<fetch::ReadAheadWorkers> walkers_;
  const std::vector<std::weak_ptr<LoaderWalk>> lowers_;
  std::mutex mu_;
  absl::flat_hash_set<format::EntryId> walked_;
  absl::flat_hash_set<format::EntryId> sibling_dirs_;  // directories whose modules were queued
  std::vector<std::weak_ptr<LoaderWalk>> uppers_;      // AddUpper
};

}  // namespace tide::fuse

#endif  // TIDE_FUSE_LOADER_WALK_H_
