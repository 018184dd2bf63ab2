#ifndef TIDE_FUSE_LAYER_FS_H_
#define TIDE_FUSE_LAYER_FS_H_

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "fetch/chunk_fetcher.h"
#include "format/layer_index.h"
#include "fuse/import_walk.h"
#include "fuse/loader_walk.h"
#include "fuse/overlay_view.h"
#include "fuse/read_observer.h"
#include "fuse/repeated_read_failures.h"
#include "fuse/startup_readahead.h"

namespace tide::fuse {

// Kernel caching knobs. Layers never change, so everything may be cached for as long as the kernel
// likes; the switches exist to measure each one's effect (docs/bench-fuse.md).
struct KernelCacheOptions {
  std::chrono::seconds entry_timeout{86400};
  std::chrono::seconds attr_timeout{86400};
  bool keep_cache = true;   // keep page cache across opens
  bool readdirplus = true;  // attributes with directory listings
  bool cache_symlinks = true;
  // The mount's bdi read_ahead_kb (kernel default 128; 0: none): startup_readahead_kb while the
  // workload starts, the window startup sets and learned profiles are recorded with; readahead_kb
  // once it has started (fetch::PrefetchQueue::WhenStarted), for the reads that follow.
  uint32_t readahead_kb = 1024;
  uint32_t startup_readahead_kb = kStartupReadaheadKb;
};

// Owners served shifted into a range of host ids, for a user namespace that maps the range back to
// 0.. (tidectl optimize's sandbox). Owners the range cannot hold are served as base + count - 2,
// which such a map shows as nobody (65534 of 65536 ids).
struct IdShift {
  uint32_t base = 0;  // 0: owners as the layer has them
  uint32_t count = 0;
};

// The FUSE low-level operations of one mounted layer: read-only, inode = entry id + 1, contents
// served from the chunk cache through the fetcher.
class LayerFs {
 public:
  // `loader_walkers`: threads for following shared objects' dependencies (LoaderWalk) and packages'
  // imports (ImportWalk); null: the loader read-ahead only fetches each object's own segments, and
  // imports are not followed. `lower_walks`: the loader walks of the layers under this one, top
  // first, where it looks for the libraries this one lacks.
  LayerFs(std::shared_ptr<const format::LayerIndex> index, std::shared_ptr<fetch::ChunkFetcher> fetcher,
          std::shared_ptr<ReadObserver> observer, KernelCacheOptions cache_options, IdShift ids = {},
          std::weak_ptr<fetch::ReadAheadWorkers> loader_walkers = {},
          std::vector<std::weak_ptr<LoaderWalk>> lower_walks = {});

  static const fuse_lowlevel_ops& Ops();
  const KernelCacheOptions& cache_options() const { return cache_options_; }
  const format::LayerIndex& index() const { return *index_; }
  // The layer as overlayfs sees it (whiteouts, opaque directories).
  const OverlayView& view() const { return view_; }
  // The layer's loader walk; null when loader read-ahead is off.
  const std::shared_ptr<LoaderWalk>& loader_walk() const { return loader_walk_; }
  // An entry's attributes as the mount serves them (owners shifted, whiteouts as 0/0 devices).
  struct stat Stat(format::EntryId id) const;
  // Before mounting: the layer's xattrs and opaque marks are served by local directories stacked
  // around it (layer::BuildXattrShadow), so the mount answers the first GETXATTR with ENOSYS and the
  // kernel answers every later one without asking.
  void LeaveXattrsToShadow() { serves_xattrs_ = false; }
  bool serves_xattrs() const { return serves_xattrs_; }

  // Reads [offset, offset+size) of a regular file into dst; returns bytes read or an error.
  // Public for tests and for tools that read a layer without mounting it.
  // `workload`: false for the page-cache warmer's reads, which guess no read-ahead, are not
  // recorded, and do not show the node that its workload is reading (FetchLimiter::NotWorkloadScope):
  // they follow a startup set instead of revealing one. `timeout`: how long the read may
  // wait for the registry; zero: the fetcher's read_timeout.
  absl::StatusOr<size_t> ReadFile(format::EntryId id, uint64_t offset, std::span<char> dst,
                                  bool workload = true,
                                  std::chrono::milliseconds timeout = std::chrono::milliseconds::zero());
  // Reads from this thread are the PageCacheWarmer's.
  void SetWarmerThread(pid_t tid) { warmer_tid_.store(tid, std::memory_order_relaxed); }
  // From now on every read fails: the layer's content turned out not to be what its image commits to.
  void Poison() { poisoned_.store(true, std::memory_order_relaxed); }
  bool poisoned() const { return poisoned_.load(std::memory_order_relaxed); }
  // Reads answered with EIO since the mount.
  uint64_t read_errors() const { return read_errors_.load(std::memory_order_relaxed); }
  // Reads that repeated a failed one and so waited for kRepeatTimeout only (RepeatedReadFailures).
  uint64_t repeated_reads() const { return repeated_reads_.load(std::memory_order_relaxed); }
  // OPEN requests of regular files the kernel sent since the mount (after the first, it skips them).
  uint64_t open_requests() const { return open_requests_.load(std::memory_order_relaxed); }
  // GETXATTR requests the kernel sent since the mount (a layer without xattrs gets one at most).
  uint64_t getxattr_requests() const { return getxattr_requests_.load(std::memory_order_relaxed); }
  // READDIR(PLUS) requests since the mount.
  uint64_t readdir_requests() const { return readdir_requests_.load(std::memory_order_relaxed); }

 private:
  friend struct LayerFsOps;
  uint32_t ShiftId(uint32_t id) const;
  void FillEntry(format::EntryId id, fuse_entry_param* e) const;
  format::EntryId IdOf(fuse_ino_t ino) const;
  // At log level trace: one line for a container read that waited for a fetch, with the read-ahead it
  // carried (where a start's read waits go, file by file; docs/prefetch.md).
  void TraceSlowRead(format::EntryId id, uint64_t offset, uint64_t length, const fetch::ReadAhead& ahead,
                     std::chrono::steady_clock::duration waited) const;

  const std::shared_ptr<const format::LayerIndex> index_;
  const std::shared_ptr<fetch::ChunkFetcher> fetcher_;
  const std::shared_ptr<ReadObserver> observer_;  // null: nobody is recording
  const KernelCacheOptions cache_options_;
  const IdShift ids_;
  const OverlayView view_;
  // Whether any entry has an xattr to show (its own, or the overlay's opaque mark) that no shadow
  // serves instead. Set before the mount starts, read-only afterwards.
  bool serves_xattrs_;
  std::shared_ptr<LoaderWalk> loader_walk_;  // null: loader read-ahead off
  std::shared_ptr<ImportWalk> import_walk_;  // null: import read-ahead off
  std::atomic<bool> poisoned_{false};
  std::atomic<bool> skip_open_{false};     // the kernel may skip OPEN/RELEASE (set at INIT)
  std::atomic<bool> skip_opendir_{false};  // and OPENDIR/RELEASEDIR
  std::atomic<uint64_t> read_errors_{0};
  std::atomic<uint64_t> repeated_reads_{0};
  RepeatedReadFailures repeated_failures_;
  std::atomic<uint64_t> open_requests_{0};
  std::atomic<uint64_t> getxattr_requests_{0};
  std::atomic<uint64_t> readdir_requests_{0};
  std::atomic<pid_t> warmer_tid_{0};
  // Per-file "where the last read ended" hints, hashed into a fixed table: lock-free, and a collision
  // only costs a missed or needless lookahead.
  static constexpr size_t kSequentialHints = 4096;
  std::unique_ptr<std::atomic<uint64_t>[]> sequential_hints_;
};

}  // namespace tide::fuse

#endif  // TIDE_FUSE_LAYER_FS_H_
