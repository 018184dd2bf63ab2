#ifndef TIDE_FUSE_PAGE_CACHE_WARMER_H_
#define TIDE_FUSE_PAGE_CACHE_WARMER_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "fuse/layer_fs.h"

namespace tide::fuse {

// Reads the part of a mounted layer's startup set that is local when it is mounted (a warmed node, a
// node that ran the image before) through the layer's own mountpoint, in startup order, after listing
// the directories that hold it: the kernel then holds those pages, names and listings before the
// container asks, and the start no longer waits on one
// FUSE round trip after another. It reads only the pages that lie wholly in local chunks, so it never
// fetches anything, and it does not follow a cold prefetch: measured, that changed no start time and
// let the workload fetch 29% more (docs/prefetch.md). Its reads are not recorded as the workload's
// (LayerFs::SetWarmerThread).
class PageCacheWarmer {
 public:
  struct Source {
    std::span<const uint32_t> startup;      // chunk ids in the order startup needs them
    std::function<bool(uint32_t)> present;  // whether a chunk is in the local cache
  };
  // Starts the warmer's thread. `fs` must outlive it.
  static std::unique_ptr<PageCacheWarmer> Start(const std::filesystem::path& mountpoint, LayerFs& fs,
                                                Source source);
  ~PageCacheWarmer();  // stops and joins
  PageCacheWarmer(const PageCacheWarmer&) = delete;
  PageCacheWarmer& operator=(const PageCacheWarmer&) = delete;

  bool done() const { return done_.load(std::memory_order_acquire); }
  // Bytes read through the mount so far.
  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  PageCacheWarmer(LayerFs& fs, Source source);
  void Run(const std::filesystem::path& mountpoint);
  // Reads the pages of `file` that lie wholly in local chunks, within what `chunk` holds of it.
  void Warm(int root, format::EntryId file, uint32_t chunk);

  LayerFs& fs_;
  const Source source_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> done_{false};
  std::atomic<uint64_t> bytes_{0};
  std::thread thread_;
};

// The files whose content each startup chunk holds (regular files only: not hardlinks, which share
// their target's pages, nor entries a later one replaced). Parallel to `startup`.
std::vector<std::vector<format::EntryId>> FilesByStartupChunk(const format::LayerIndex& index,
                                                              std::span<const uint32_t> startup);

// The directories above `files` that `listed` does not mark yet, parents before children; marks them.
std::vector<format::EntryId> DirectoriesToList(const format::LayerIndex& index,
                                               std::span<const format::EntryId> files,
                                               std::vector<bool>& listed);

}  // namespace tide::fuse

#endif  // TIDE_FUSE_PAGE_CACHE_WARMER_H_
