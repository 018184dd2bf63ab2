#include "fuse/page_cache_warmer.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "common/log.h"
#include "common/unique_fd.h"

namespace tide::fuse {

namespace {

constexpr uint64_t kPage = 4096;
constexpr size_t kReadBytes = 1 << 20;

uint64_t PageDown(uint64_t v) { return v & ~(kPage - 1); }
uint64_t PageUp(uint64_t v) { return PageDown(v + kPage - 1); }

// Opens a path below the mount's root without following any symlink and without leaving the mount:
// the paths come from an untrusted image, and this runs as root.
UniqueFd OpenBeneath(int root, std::string_view path, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  const std::string p = path.empty() ? std::string(".") : std::string(path);
  return UniqueFd(static_cast<int>(::syscall(SYS_openat2, root, p.c_str(), &how, sizeof(how))));
}

UniqueFd OpenFileBeneath(int root, std::string_view path) {
  UniqueFd fd = OpenBeneath(root, path, 0);
  if (!fd.valid()) return fd;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return UniqueFd();
  // Exactly the pages asked for: kernel read-ahead would reach pages outside the local chunks.
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_RANDOM);
  return fd;
}

// Lists a directory to its end. The kernel asks with READDIRPLUS, which leaves every child's name
// and attributes in its caches, and keeps the listing itself (no OPENDIR means a cached listing).
void ListBeneath(int root, std::string_view path) {
  UniqueFd fd = OpenBeneath(root, path, O_DIRECTORY);
  if (!fd.valid()) return;
  thread_local std::vector<char> buffer(64 << 10);
  while (::syscall(SYS_getdents64, fd.get(), buffer.data(), buffer.size()) > 0) {
  }
}

}  // namespace

std::vector<format::EntryId> DirectoriesToList(const format::LayerIndex& index,
                                               std::span<const format::EntryId> files,
                                               std::vector<bool>& listed) {
  std::vector<format::EntryId> dirs;
  for (format::EntryId file : files) {
    const size_t first = dirs.size();
    for (format::EntryId dir = index.parent(file); dir != format::kNoEntry && !listed[dir];
         dir = index.parent(dir)) {
      listed[dir] = true;
      dirs.push_back(dir);
    }
    std::reverse(dirs.begin() + static_cast<std::ptrdiff_t>(first), dirs.end());
  }
  return dirs;
}

std::vector<std::vector<format::EntryId>> FilesByStartupChunk(const format::LayerIndex& index,
                                                              std::span<const uint32_t> startup) {
  std::vector<std::vector<format::EntryId>> files(startup.size());
  std::vector<int32_t> position(index.chunks().size(), -1);
  for (size_t i = 0; i < startup.size(); ++i) {
    if (startup[i] < position.size() && position[startup[i]] < 0)
      position[startup[i]] = static_cast<int32_t>(i);
  }
  for (format::EntryId id = 0; id < index.entry_count(); ++id) {
    const format::EntryAttr& a = index.attr(id);
    if (a.type != format::EntryType::kRegular || a.target != id || a.parent == format::kNoEntry) continue;
    for (uint32_t c = a.first_chunk; c < a.first_chunk + a.chunk_count && c < position.size(); ++c) {
      if (position[c] >= 0) files[static_cast<size_t>(position[c])].push_back(id);
    }
  }
  return files;
}

PageCacheWarmer::PageCacheWarmer(LayerFs& fs, Source source) : fs_(fs), source_(std::move(source)) {}

std::unique_ptr<PageCacheWarmer> PageCacheWarmer::Start(const std::filesystem::path& mountpoint, LayerFs& fs,
                                                        Source source) {
  std::unique_ptr<PageCacheWarmer> w(new PageCacheWarmer(fs, std::move(source)));
  w->thread_ = std::thread([w = w.get(), mountpoint] { w->Run(mountpoint); });
  return w;
}

PageCacheWarmer::~PageCacheWarmer() {
  stopping_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
}

void PageCacheWarmer::Run(const std::filesystem::path& mountpoint) {
  fs_.SetWarmerThread(static_cast<pid_t>(::gettid()));
  const auto began = std::chrono::steady_clock::now();
  const std::vector<std::vector<format::EntryId>> files = FilesByStartupChunk(fs_.index(), source_.startup);
  std::vector<bool> listed(fs_.index().entry_count(), false);
  UniqueFd root(::open(mountpoint.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  // Names first: the directories of the files to warm, each listed once, parents before children.
  for (size_t i = 0; root.valid() && i < files.size() && !stopping_.load(std::memory_order_relaxed); ++i) {
    for (format::EntryId dir : DirectoriesToList(fs_.index(), files[i], listed)) {
      ListBeneath(root.get(), fs_.index().path(dir));
    }
  }
  for (size_t i = 0; root.valid() && i < source_.startup.size(); ++i) {
    if (stopping_.load(std::memory_order_relaxed)) break;
    if (files[i].empty() || !source_.present(source_.startup[i])) continue;
    for (format::EntryId file : files[i]) Warm(root.get(), file, source_.startup[i]);
  }
  log::Debug(
      "page cache warmed",
      {{"mountpoint", mountpoint.string()},
       {"bytes", std::to_string(bytes())},
       {"seconds",
        std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count())}});
  done_.store(true, std::memory_order_release);
}

void PageCacheWarmer::Warm(int root, format::EntryId file, uint32_t chunk) {
  const format::LayerIndex& index = fs_.index();
  const format::EntryAttr& a = index.attr(file);
  const format::ChunkInfo& c = index.chunk(chunk);
  const uint64_t lo = std::max(a.data_offset, c.uncompressed_offset) - a.data_offset;
  const uint64_t hi =
      std::min(a.data_offset + a.size, c.uncompressed_offset + c.uncompressed_size) - a.data_offset;
  if (lo >= hi) return;
  // Whole pages only, and a page that reaches into a neighbouring chunk only when that chunk is local.
  auto local = [&](uint64_t from, uint64_t to) {
    const format::ChunkRange r = index.ChunksFor(file, from, to - from);
    for (uint32_t k = r.first; k < r.first + r.count; ++k) {
      if (!source_.present(k)) return false;
    }
    return true;
  };
  uint64_t begin = PageDown(lo);
  if (begin < lo && !local(begin, lo)) begin = PageUp(lo);
  uint64_t end = std::min(PageUp(hi), a.size);
  if (end > hi && !local(hi, end)) end = PageDown(hi);
  if (begin >= end) return;
  UniqueFd fd = OpenFileBeneath(root, index.path(file));
  if (!fd.valid()) return;
  thread_local std::vector<char> buffer(kReadBytes);
  for (uint64_t off = begin; off < end && !stopping_.load(std::memory_order_relaxed);) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kReadBytes, end - off));
    const ssize_t n = ::pread(fd.get(), buffer.data(), want, static_cast<off_t>(off));
    if (n <= 0) return;
    off += static_cast<uint64_t>(n);
    bytes_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
  }
}

}  // namespace tide::fuse
