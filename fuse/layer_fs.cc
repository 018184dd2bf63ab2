#include "fuse/layer_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "fuse/layer_file_reader.h"
#include "fuse/op_guard.h"
#include "fuse/request_limits.h"
#include "metrics/node_latencies.h"

namespace tide::fuse {

using format::EntryId;
using format::EntryType;
using format::kNoEntry;

LayerFs::LayerFs(std::shared_ptr<const format::LayerIndex> index,
                 std::shared_ptr<fetch::ChunkFetcher> fetcher, std::shared_ptr<ReadObserver> observer,
                 KernelCacheOptions cache_options, IdShift ids,
                 std::weak_ptr<fetch::ReadAheadWorkers> loader_walkers,
                 std::vector<std::weak_ptr<LoaderWalk>> lower_walks)
    : index_(std::move(index)),
      fetcher_(std::move(fetcher)),
      observer_(std::move(observer)),
      cache_options_(cache_options),
      ids_(ids),
      view_(*index_),
      serves_xattrs_(view_.any_opaque() || index_->has_xattrs()),
      sequential_hints_(new std::atomic<uint64_t>[kSequentialHints]) {
  for (size_t i = 0; i < kSequentialHints; ++i) sequential_hints_[i].store(0, std::memory_order_relaxed);
  if (fetcher_->options().loader_lookahead) {
    loader_walk_ = LoaderWalk::Create(index_, fetcher_, loader_walkers, std::move(lower_walks));
  }
  if (fetcher_->options().import_names) {
    import_walk_ = std::make_shared<ImportWalk>(index_, fetcher_, std::move(loader_walkers), loader_walk_);
  }
}

namespace {

// A hint packs a tag of the file's id above where its last read ended, so a lookup can tell a read
// that continues the file, exactly or after a gap, from one of a file that shares the slot.
constexpr int kHintEndBits = 40;
constexpr uint64_t kHintEndMask = (uint64_t{1} << kHintEndBits) - 1;

uint64_t HintTag(EntryId id) { return ((uint64_t{id} * 0x9E3779B97F4A7C15ull) >> kHintEndBits) | 1; }

uint64_t SequentialHint(EntryId id, uint64_t end) {
  if (end > kHintEndMask) return 0;  // no hint for reads beyond 1 TiB
  return (HintTag(id) << kHintEndBits) | end;
}

// Whether a read at `offset` continues the file's last read (recorded in `hint`), allowing `gap`
// bytes skipped between them.
bool ContinuesRead(uint64_t hint, EntryId id, uint64_t offset, uint64_t gap) {
  if (hint == 0 || (hint >> kHintEndBits) != HintTag(id)) return false;
  const uint64_t end = hint & kHintEndMask;
  return offset >= end && offset - end <= gap;
}

}  // namespace

EntryId LayerFs::IdOf(fuse_ino_t ino) const {
  if (ino == 0 || ino - 1 >= index_->entry_count()) return kNoEntry;
  return static_cast<EntryId>(ino - 1);
}

uint32_t LayerFs::ShiftId(uint32_t id) const {
  if (ids_.base == 0) return id;
  return ids_.base + (id < ids_.count ? id : ids_.count - 2);
}

struct stat LayerFs::Stat(EntryId id) const {
  const format::EntryAttr& a = index_->attr(id);
  struct stat st {};
  st.st_ino = id + 1;
  st.st_mode = a.mode;
  st.st_nlink = a.nlink;
  st.st_uid = ShiftId(a.uid);
  st.st_gid = ShiftId(a.gid);
  st.st_rdev = makedev(a.rdev_major, a.rdev_minor);
  switch (a.type) {
    case EntryType::kRegular:
      st.st_size = static_cast<off_t>(a.size);
      break;
    case EntryType::kSymlink:
      st.st_size = static_cast<off_t>(index_->link_target(id).size());
      break;
    case EntryType::kDirectory:
      st.st_size = 4096;
      break;
    default:
      break;
  }
  if (view_.IsWhiteout(id)) {
    st.st_mode = S_IFCHR;
    st.st_rdev = makedev(0, 0);
    st.st_size = 0;
    st.st_nlink = 1;
  }
  st.st_blksize = 4096;
  st.st_blocks = (st.st_size + 511) / 512;
  st.st_mtim.tv_sec = a.mtime_sec;
  st.st_mtim.tv_nsec = a.mtime_nsec;
  st.st_atim = st.st_mtim;
  st.st_ctim = st.st_mtim;
  return st;
}

void LayerFs::FillEntry(EntryId id, fuse_entry_param* e) const {
  *e = fuse_entry_param{};
  e->ino = id + 1;
  e->generation = 1;
  e->attr = Stat(id);
  e->attr_timeout = static_cast<double>(cache_options_.attr_timeout.count());
  e->entry_timeout = static_cast<double>(cache_options_.entry_timeout.count());
}

absl::StatusOr<size_t> LayerFs::ReadFile(EntryId id, uint64_t offset, std::span<char> dst, bool workload,
                                         std::chrono::milliseconds timeout) {
  if (id >= index_->entry_count()) return absl::NotFoundError("no such entry");
  if (poisoned()) return absl::DataLossError("the layer failed verification against its diff_id");
  id = index_->Resolve(id);
  const format::EntryAttr& a = index_->attr(id);
  if (a.type != EntryType::kRegular) return absl::InvalidArgumentError("not a regular file");
  if (offset >= a.size || dst.empty()) return 0;
  const uint64_t length = std::min<uint64_t>(dst.size(), a.size - offset);
  if (!workload) {
    fetch::FetchLimiter::NotWorkloadScope warmer;
    return ReadLayerFile(*index_, *fetcher_, id, offset, dst.first(length), fetch::ReadAhead{}, timeout);
  }
  const fetch::FetcherOptions& options = fetcher_->options();
  std::atomic<uint64_t>& hint = sequential_hints_[id % kSequentialHints];
  fetch::ReadAhead ahead;
  const uint32_t file_last = a.first_chunk + a.chunk_count - 1;
  if (offset + length == a.size && options.cluster_lookahead_bytes != 0) {
    // The end of a file: the files after it in the tar are likely next (same directory).
    ahead = {.last = UINT32_MAX, .bytes = options.cluster_lookahead_bytes, .only_when_walking = true};
  } else if (a.size <= options.whole_file_bytes) {
    ahead = {.last = file_last, .bytes = UINT64_MAX, .whole = true};
  } else if (offset > 0 &&
             ContinuesRead(hint.load(std::memory_order_relaxed), id, offset, options.sequential_gap_bytes)) {
    ahead = {.last = file_last, .bytes = options.sequential_lookahead_bytes};
  }
  hint.store(SequentialHint(id, offset + length), std::memory_order_relaxed);
  const bool trace = log::Enabled(log::Level::kTrace);
  const auto began = trace ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  TIDE_ASSIGN_OR_RETURN(size_t n,
                        ReadLayerFile(*index_, *fetcher_, id, offset, dst.first(length), ahead, timeout));
  if (trace) TraceSlowRead(id, offset, length, ahead, std::chrono::steady_clock::now() - began);
  if (n > 0) {
    const format::ChunkRange served = index_->ChunksFor(id, offset, n);
    if (served.count > 0) fetcher_->NoteServed(served.first, served.first + served.count - 1);
  }
  if (offset == 0) {
    if (loader_walk_ != nullptr) loader_walk_->OnHead(id, dst.first(n));
    if (import_walk_ != nullptr) import_walk_->OnHead(id);
  }
  if (observer_) observer_->OnRead(id, offset, n);
  return n;
}

void LayerFs::TraceSlowRead(EntryId id, uint64_t offset, uint64_t length, const fetch::ReadAhead& ahead,
                            std::chrono::steady_clock::duration waited) const {
  // Reads served from the page of a cached chunk take microseconds; the ones worth a line waited for
  // a fetch, and which read-ahead they carried says which policy missed them.
  if (waited < std::chrono::microseconds(500)) return;
  const char* kind = ahead.bytes == 0          ? "none"
                     : ahead.whole             ? "whole"
                     : ahead.only_when_walking ? "neighbours"
                                               : "sequential";
  log::Write(log::Level::kTrace, "slow read",
             {{"file", index_->path(id)},
              {"offset", absl::StrCat(offset)},
              {"length", absl::StrCat(length)},
              {"size", absl::StrCat(index_->attr(id).size)},
              {"wait_ms", absl::StrCat(std::chrono::duration<double, std::milli>(waited).count())},
              {"read_ahead", kind}});
}

namespace {

thread_local std::string name_buffer;

const char* CName(std::string_view name) {
  name_buffer.assign(name);
  return name_buffer.c_str();
}

}  // namespace

struct LayerFsOps {
  static LayerFs& Fs(fuse_req_t req) { return *static_cast<LayerFs*>(fuse_req_userdata(req)); }

  static void Init(void* userdata, fuse_conn_info* conn) {
    auto* fs = static_cast<LayerFs*>(userdata);
    const KernelCacheOptions& o = fs->cache_options();
    auto want = [conn](unsigned cap, bool on) {
      if (on && (conn->capable & cap)) {
        conn->want |= cap;
      } else {
        conn->want &= ~cap;
      }
    };
    want(FUSE_CAP_READDIRPLUS, o.readdirplus);
    want(FUSE_CAP_READDIRPLUS_AUTO, false);  // always plus: the layer's attributes are free to send
    want(FUSE_CAP_CACHE_SYMLINKS, o.cache_symlinks);
    want(FUSE_CAP_PARALLEL_DIROPS, true);
    want(FUSE_CAP_ASYNC_READ, true);
    want(FUSE_CAP_AUTO_INVAL_DATA, false);  // nothing ever changes
    conn->max_background = kMaxBackgroundRequests;
    conn->congestion_threshold = kCongestionThreshold;
    // Open checks nothing the kernel does not (the mount is read-only) and keeps no state, so the
    // kernel may skip OPEN and RELEASE, and OPENDIR and RELEASEDIR: four of the few round trips a
    // start from warm chunks makes per file. The kernel's default for a skipped open keeps the page
    // cache and caches directory listings, as Open and Opendir ask.
    fs->skip_open_.store(o.keep_cache && (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) != 0,
                         std::memory_order_relaxed);
    fs->skip_opendir_.store((conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) != 0, std::memory_order_relaxed);
  }

  static void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    LayerFs& fs = Fs(req);
    EntryId dir = fs.IdOf(parent);
    if (dir == kNoEntry) return (void)fuse_reply_err(req, ENOENT);
    if (fs.index_->type(dir) != EntryType::kDirectory) return (void)fuse_reply_err(req, ENOTDIR);
    OverlayView::Child c = fs.view_.Lookup(dir, name);
    fuse_entry_param e{};
    if (c.id == kNoEntry) {
      // Negative entries are cached as long as positive ones: the layer never gains names.
      e.entry_timeout = static_cast<double>(fs.cache_options_.entry_timeout.count());
      return (void)fuse_reply_entry(req, &e);
    }
    fs.FillEntry(fs.index_->Resolve(c.id), &e);
    fuse_reply_entry(req, &e);
  }

  // Inodes are the index's entries and live as long as the mount: nothing to release.
  static void Forget(fuse_req_t req, fuse_ino_t, uint64_t) { fuse_reply_none(req); }
  static void ForgetMulti(fuse_req_t req, size_t, fuse_forget_data*) { fuse_reply_none(req); }

  static void Getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
    LayerFs& fs = Fs(req);
    EntryId id = fs.IdOf(ino);
    if (id == kNoEntry) return (void)fuse_reply_err(req, ENOENT);
    struct stat st = fs.Stat(id);
    fuse_reply_attr(req, &st, static_cast<double>(fs.cache_options_.attr_timeout.count()));
  }

  static void Readlink(fuse_req_t req, fuse_ino_t ino) {
    LayerFs& fs = Fs(req);
    EntryId id = fs.IdOf(ino);
    if (id == kNoEntry) return (void)fuse_reply_err(req, ENOENT);
    if (fs.index_->type(id) != EntryType::kSymlink) return (void)fuse_reply_err(req, EINVAL);
    fuse_reply_readlink(req, CName(fs.index_->link_target(id)));
  }

  static void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    LayerFs& fs = Fs(req);
    EntryId id = fs.IdOf(ino);
    if (id == kNoEntry) return (void)fuse_reply_err(req, ENOENT);
    if ((fi->flags & O_ACCMODE) != O_RDONLY) return (void)fuse_reply_err(req, EROFS);
    if (fs.index_->type(id) == EntryType::kDirectory) return (void)fuse_reply_err(req, EISDIR);
    fs.open_requests_.fetch_add(1, std::memory_order_relaxed);
    // ENOSYS tells the kernel to stop sending OPEN (and RELEASE) for this mount; this open succeeds.
    if (fs.skip_open_.load(std::memory_order_relaxed)) return (void)fuse_reply_err(req, ENOSYS);
    fi->keep_cache = fs.cache_options_.keep_cache ? 1 : 0;
    fuse_reply_open(req, fi);
  }

  static void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
    LayerFs& fs = Fs(req);
    EntryId id = fs.IdOf(ino);
    if (id == kNoEntry) return (void)fuse_reply_err(req, ENOENT);
    // One buffer per worker thread, grown to the largest request once.
    thread_local std::vector<char> buffer;
    if (buffer.size() < size) buffer.resize(size);
    const auto began = std::chrono::steady_clock::now();
    const pid_t tid = fuse_req_ctx(req)->pid;
    const pid_t warmer = fs.warmer_tid_.load(std::memory_order_relaxed);
    const bool workload = warmer == 0 || tid != warmer;
    std::chrono::milliseconds timeout = std::chrono::milliseconds::zero();
    if (fs.repeated_failures_.TakeRepeat(tid, id, off, began)) {
      fs.repeated_reads_.fetch_add(1, std::memory_order_relaxed);
      timeout = std::min(RepeatedReadFailures::kRepeatTimeout, fs.fetcher_->options().read_timeout);
    }
    absl::StatusOr<size_t> n =
        fs.ReadFile(id, static_cast<uint64_t>(off), std::span<char>(buffer.data(), size), workload, timeout);
    const auto ended = std::chrono::steady_clock::now();
    metrics::FuseReadLatency().Observe(ended - began);
    if (!n.ok()) {
      fs.read_errors_.fetch_add(1, std::memory_order_relaxed);
      fs.repeated_failures_.Note(tid, id, off, size, ended);
      log::Error("read failed", {{"layer", fs.fetcher_->layer_name()},
                                 {"file", fs.index_->path(id)},
                                 {"offset", absl::StrCat(off)},
                                 {"length", absl::StrCat(size)},
                                 {"error", n.status().message()}});
      return (void)fuse_reply_err(req, EIO);
    }
    fuse_reply_buf(req, buffer.data(), *n);
  }

  static void Release(fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); }

  static void Opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    LayerFs& fs = Fs(req);
    EntryId id = fs.IdOf(ino);
    if (id == kNoEntry) return (void)fuse_reply_err(req, ENOENT);
    if (fs.index_->type(id) != EntryType::kDirectory) return (void)fuse_reply_err(req, ENOTDIR);
    if (fs.skip_opendir_.load(std::memory_order_relaxed)) return (void)fuse_reply_err(req, ENOSYS);
    fi->cache_readdir = 1;
    fi->keep_cache = 1;
    fuse_reply_open(req, fi);
  }

  static void Readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus) {
    LayerFs& fs = Fs(req);
    EntryId dir = fs.IdOf(ino);
    if (dir == kNoEntry) return (void)fuse_reply_err(req, ENOENT);
    if (fs.index_->type(dir) != EntryType::kDirectory) return (void)fuse_reply_err(req, ENOTDIR);
    fs.readdir_requests_.fetch_add(1, std::memory_order_relaxed);
    thread_local std::vector<char> buffer;
    if (buffer.size() < size) buffer.resize(size);
    const size_t total = 2 + fs.view_.child_count(dir);
    size_t used = 0;
    for (size_t i = static_cast<size_t>(std::max<off_t>(off, 0)); i < total; ++i) {
      std::string_view name;
      EntryId id;
      if (i == 0) {
        name = ".";
        id = dir;
      } else if (i == 1) {
        name = "..";
        id = fs.index_->parent(dir) == kNoEntry ? dir : fs.index_->parent(dir);
      } else {
        OverlayView::Child c = fs.view_.child(dir, i - 2);
        name = c.name;
        id = fs.index_->Resolve(c.id);
      }
      size_t n;
      if (plus) {
        fuse_entry_param e;
        fs.FillEntry(id, &e);
        n = fuse_add_direntry_plus(req, buffer.data() + used, size - used, CName(name), &e,
                                   static_cast<off_t>(i + 1));
      } else {
        struct stat st = fs.Stat(id);
        n = fuse_add_direntry(req, buffer.data() + used, size - used, CName(name), &st,
                              static_cast<off_t>(i + 1));
      }
      if (n > size - used) break;
      used += n;
    }
    fuse_reply_buf(req, buffer.data(), used);
  }
  static void ReaddirPlain(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
    Readdir(req, ino, size, off, false);
  }
  static void ReaddirPlus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
    Readdir(req, ino, size, off, true);
  }

  static void Statfs(fuse_req_t req, fuse_ino_t) {
    LayerFs& fs = Fs(req);
    struct statvfs st {};
    st.f_bsize = 4096;
    st.f_frsize = 4096;
    st.f_blocks = (fs.index_->tar_size() + 4095) / 4096;
    st.f_files = fs.index_->entry_count();
    st.f_namemax = 255;
    fuse_reply_statfs(req, &st);
  }

  static void ReplyXattr(fuse_req_t req, std::string_view value, size_t size) {
    if (size == 0) return (void)fuse_reply_xattr(req, value.size());
    if (size < value.size()) return (void)fuse_reply_err(req, ERANGE);
    fuse_reply_buf(req, value.data(), value.size());
  }

  static void Getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
    LayerFs& fs = Fs(req);
    EntryId id = fs.IdOf(ino);
    if (id == kNoEntry) return (void)fuse_reply_err(req, ENOENT);
    fs.getxattr_requests_.fetch_add(1, std::memory_order_relaxed);
    // A layer without any xattr says so once: ENOSYS makes the kernel answer every later GETXATTR of
    // the mount itself (EOPNOTSUPP, which overlayfs takes as "not set"). Overlayfs asks each lower
    // directory for its opaque and redirect marks, so a start pays thousands of these round trips.
    if (!fs.serves_xattrs_) return (void)fuse_reply_err(req, ENOSYS);
    std::string_view key(name);
    if (key == kOverlayOpaqueXattr && fs.view_.IsOpaque(id)) return ReplyXattr(req, "y", size);
    for (const format::Xattr& x : fs.index_->xattrs(id)) {
      if (x.key == key) return ReplyXattr(req, x.value, size);
    }
    fuse_reply_err(req, ENODATA);
  }

  static void Listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
    LayerFs& fs = Fs(req);
    EntryId id = fs.IdOf(ino);
    if (id == kNoEntry) return (void)fuse_reply_err(req, ENOENT);
    std::string names;
    for (const format::Xattr& x : fs.index_->xattrs(id)) {
      names.append(x.key);
      names.push_back('\0');
    }
    if (fs.view_.IsOpaque(id)) {
      names.append(kOverlayOpaqueXattr);
      names.push_back('\0');
    }
    ReplyXattr(req, names, size);
  }

  static fuse_lowlevel_ops Make() {
    fuse_lowlevel_ops ops{};
    ops.init = Init;
    ops.lookup = OpGuard<Lookup>::Call;
    ops.forget = Forget;
    ops.forget_multi = ForgetMulti;
    ops.getattr = OpGuard<Getattr>::Call;
    ops.readlink = OpGuard<Readlink>::Call;
    ops.open = OpGuard<Open>::Call;
    ops.read = OpGuard<Read>::Call;
    ops.release = OpGuard<Release>::Call;
    ops.opendir = OpGuard<Opendir>::Call;
    ops.readdir = OpGuard<ReaddirPlain>::Call;
    ops.readdirplus = OpGuard<ReaddirPlus>::Call;
    ops.statfs = OpGuard<Statfs>::Call;
    ops.getxattr = OpGuard<Getxattr>::Call;
    ops.listxattr = OpGuard<Listxattr>::Call;
    return ops;
  }
};

const fuse_lowlevel_ops& LayerFs::Ops() {
  static const fuse_lowlevel_ops ops = LayerFsOps::Make();
  return ops;
}

}  // namespace tide::fuse
