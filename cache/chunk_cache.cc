#include "cache/chunk_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace tide::cache {
namespace {

absl::Status ErrnoError(std::string_view what, const std::filesystem::path& path) {
  std::string message = absl::StrCat(std::string(what), " ", path.string(), ": ", std::strerror(errno));
  // A full disk is a condition the cache handles (MakeRoom), not an internal failure.
  if (errno == ENOSPC || errno == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

// Chunks are written in pieces: on the bench VM (Firecracker-style, PVM) one 2 MiB write(2) from a
// buffer the process reuses took 4.6 ms, four 512 KiB writes of it 0.6 ms, and from a fresh buffer
// both took 0.7 ms (docs/bench-sdwebui.md, session 28). Elsewhere the extra syscalls cost ~nothing.
constexpr size_t kWritePieceBytes = 512 << 10;

absl::Status WriteAll(int fd, std::string_view data, const std::filesystem::path& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, std::min(data.size() - done, kWritePieceBytes));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("write", path);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Truncates before unlinking: readers keep chunk files open (chunk_reader.h), and an unlinked file
// that is still open keeps its blocks, so on a full disk eviction would free nothing. A reader of the
// truncated file sees its stamp change and fetches the chunk again.
void RemoveFile(const std::filesystem::path& path) {
  ::truncate(path.c_str(), 0);
  ::unlink(path.c_str());
}

}  // namespace

namespace {

FileStamp StampOfStat(const struct stat& st) {
  return FileStamp{static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
                   static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

}  // namespace

FileStamp StampOf(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? StampOfStat(st) : FileStamp{};
}

absl::StatusOr<std::shared_ptr<ChunkCache>> ChunkCache::Open(const std::filesystem::path& root,
                                                             uint64_t max_bytes) {
  TIDE_ASSIGN_OR_RETURN(DirLock lock, DirLock::Acquire(root, "chunk cache", "another tide process"));
  std::error_code ec;
  std::filesystem::create_directories(root / "chunks", ec);
  if (!ec) std::filesystem::create_directories(root / "tmp", ec);
  if (ec) return absl::InternalError(absl::StrCat("create cache dir ", root.string(), ": ", ec.message()));
  std::filesystem::create_directories(root / "pins", ec);
  if (ec) return absl::InternalError(absl::StrCat("create cache dir ", root.string(), ": ", ec.message()));
  std::shared_ptr<ChunkCache> cache(new ChunkCache(std::move(lock), max_bytes));
  cache->LoadPins();
  TIDE_RETURN_IF_ERROR(cache->Scan());
  return cache;
}

// Rebuilds the in-memory table after a restart. Leftover temp files are from writes a crash cut short.
absl::Status ChunkCache::Scan() {
  std::error_code ec;
  for (const auto& tmp : std::filesystem::directory_iterator(root_ / "tmp", ec)) {
    std::filesystem::remove(tmp.path(), ec);
  }
  std::vector<std::pair<std::filesystem::file_time_type, Sha256Bytes>> by_age;
  for (const auto& file : std::filesystem::recursive_directory_iterator(root_ / "chunks", ec)) {
    if (!file.is_regular_file()) continue;
    Sha256Bytes digest;
    if (!ParseSha256Hex(file.path().filename().string(), &digest)) continue;
    entries_[digest].size = file.file_size();
    used_bytes_ += entries_[digest].size;
    by_age.emplace_back(file.last_write_time(), digest);
  }
  if (ec) return absl::InternalError(absl::StrCat("scan cache ", root_.string(), ": ", ec.message()));
  // Recency across restarts is approximated by write time: older chunks are evicted first.
  std::sort(by_age.begin(), by_age.end());
  for (const auto& [time, digest] : by_age) entries_[digest].last_use = ++clock_;
  std::lock_guard lock(mu_);
  EvictLocked();
  return absl::OkStatus();
}

std::filesystem::path ChunkCache::PathOf(const Sha256Bytes& digest) const {
  std::string hex = HexEncode(digest);
  return root_ / "chunks" / hex.substr(0, 2) / hex;
}

bool ChunkCache::Contains(const Sha256Bytes& digest) {
  std::lock_guard lock(mu_);
  return entries_.contains(digest);
}

size_t ChunkCache::chunk_count() {
  std::lock_guard lock(mu_);
  return entries_.size();
}

absl::Status ChunkCache::WriteFile(const std::filesystem::path& tmp_path, std::string_view data) {
  UniqueFd fd(::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) return ErrnoError("create", tmp_path);
  // No fsync: a reader waits for this write, and a file torn by a crash fails its hash at the first
  // open after the restart and is fetched again. Sync() makes what must survive a crash durable.
  absl::Status written = WriteAll(fd.get(), data, tmp_path);
  if (!written.ok()) ::unlink(tmp_path.c_str());
  return written;
}

void ChunkCache::WarnDiskFull() {
  // A disk smaller than the bound fills again with every write: say so once a minute, not per chunk.
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  int64_t last = last_full_warning_.load(std::memory_order_relaxed);
  if (last != 0 && now - last < 60) return;
  if (!last_full_warning_.compare_exchange_strong(last, now)) return;
  log::Warn("cache disk full: evicting to make room; cache_max_bytes is larger than the disk",
            {{"cache", root_.string()}, {"bytes_cached", std::to_string(used_bytes())}});
}

bool ChunkCache::MakeRoom(uint64_t needed) {
  std::lock_guard lock(mu_);
  if (entries_.empty()) return false;
  const uint64_t used = used_bytes_;
  const uint64_t freed = std::max(needed, used / 10);
  disk_full_.fetch_add(1, std::memory_order_relaxed);
  // Nothing freed: every chunk left is pinned, and the disk really is full.
  return EvictDownToLocked(used > freed ? used - freed : 0) > 0;
}

absl::Status ChunkCache::Put(const Sha256Bytes& digest, std::string_view data) {
  if (Contains(digest)) return absl::OkStatus();
  std::filesystem::path final_path = PathOf(digest);
  std::filesystem::path tmp_path =
      root_ / "tmp" / absl::StrCat(HexEncode(digest), ".", ::getpid(), ".", tmp_seq_.fetch_add(1));
  absl::Status written = WriteFile(tmp_path, data);
  // The filesystem is smaller than the bound (or shared and filling up): the disk is the bound.
  for (int attempt = 0; absl::IsResourceExhausted(written) && attempt < 8; ++attempt) {
    if (attempt == 0) WarnDiskFull();
    if (!MakeRoom(data.size())) break;
    written = WriteFile(tmp_path, data);
  }
  if (!written.ok()) return written;
  std::error_code ec;
  std::filesystem::create_directories(final_path.parent_path(), ec);
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    absl::Status st = ErrnoError("rename into", final_path);
    ::unlink(tmp_path.c_str());
    return st;
  }
  // The caller verified these bytes: the file as written needs no hashing when first opened.
  FileStamp stamp;
  if (struct stat st{}; ::stat(final_path.c_str(), &st) == 0) stamp = StampOfStat(st);
  std::lock_guard lock(mu_);
  auto [it, inserted] = entries_.try_emplace(digest);
  if (inserted) {
    it->second.size = data.size();
    used_bytes_ += data.size();
  }
  it->second.last_use = ++clock_;
  it->second.verified = stamp;
  EvictLocked();
  return absl::OkStatus();
}

void ChunkCache::EvictLocked() {
  if (used_bytes_ <= max_bytes_) return;
  // Evict down to 90% so a full cache does not scan on every insert.
  EvictDownToLocked(max_bytes_ / 10 * 9);
}

uint64_t ChunkCache::EvictDownToLocked(uint64_t target) {
  std::vector<std::pair<uint64_t, Sha256Bytes>> order;
  order.reserve(entries_.size());
  for (const auto& [digest, entry] : entries_) {
    if (!pin_count_.contains(digest)) order.emplace_back(entry.last_use, digest);
  }
  std::sort(order.begin(), order.end());
  uint64_t freed = 0;
  for (const auto& [use, digest] : order) {
    if (used_bytes_ <= target) break;
    RemoveFile(PathOf(digest));
    const uint64_t size = entries_[digest].size;
    used_bytes_ -= size;
    freed += size;
    entries_.erase(digest);
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
  return freed;
}

void ChunkCache::LoadPins() {
  std::error_code ec;
  std::lock_guard lock(mu_);
  for (const auto& file : std::filesystem::directory_iterator(root_ / "pins", ec)) {
    const std::filesystem::path& path = file.path();
    // A Pin a crash cut short (WriteFileAtomically's ".<name>.tmp-*"): its old file still holds.
    if (path.filename().string().starts_with(".")) {
      std::filesystem::remove(path, ec);
      continue;
    }
    if (path.extension() == ".bad") continue;
    absl::StatusOr<PinFile> pin = ReadPinFile(path);
    if (!pin.ok()) {
      log::Error("pin file unreadable, set aside: its chunks are not pinned",
                 {{"file", path.string()}, {"error", pin.status().message()}});
      std::filesystem::rename(path, path.string() + ".bad", ec);
      continue;
    }
    AddPinsLocked(*pin);
  }
}

void ChunkCache::AddPinsLocked(const PinFile& pin) {
  PinFile& kept = pins_[pin.owner];
  kept.owner = pin.owner;
  kept.meta = pin.meta;
  kept.chunks.clear();
  // Once per owner and digest, however often the owner lists it.
  absl::flat_hash_set<Sha256Bytes, Sha256Hash> seen;
  for (const Sha256Bytes& digest : pin.chunks) {
    if (!seen.insert(digest).second) continue;
    kept.chunks.push_back(digest);
    ++pin_count_[digest];
  }
}

void ChunkCache::RemovePinsLocked(std::string_view owner) {
  auto it = pins_.find(std::string(owner));
  if (it == pins_.end()) return;
  for (const Sha256Bytes& digest : it->second.chunks) {
    auto count = pin_count_.find(digest);
    if (count != pin_count_.end() && --count->second == 0) pin_count_.erase(count);
  }
  pins_.erase(it);
}

absl::Status ChunkCache::Pin(std::string_view owner, std::string_view meta,
                             std::span<const Sha256Bytes> digests) {
  if (owner.empty()) return absl::InvalidArgumentError("a pin needs an owner");
  PinFile pin{std::string(owner), std::string(meta), {digests.begin(), digests.end()}};
  // Durable before it counts: a pin that a restart would forget must not be reported as made.
  TIDE_RETURN_IF_ERROR(WritePinFile(root_ / "pins" / PinFileName(owner), pin));
  std::lock_guard lock(mu_);
  RemovePinsLocked(owner);
  AddPinsLocked(pin);
  return absl::OkStatus();
}

absl::Status ChunkCache::Unpin(std::string_view owner) {
  std::lock_guard lock(mu_);
  if (!pins_.contains(std::string(owner)))
    return absl::NotFoundError(absl::StrCat(std::string(owner), " is not pinned"));
  const std::filesystem::path path = root_ / "pins" / PinFileName(owner);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError("remove pin file", path);
  RemovePinsLocked(owner);
  EvictLocked();  // the bound may have been held up only by these pins
  return absl::OkStatus();
}

std::vector<PinFile> ChunkCache::Pins() {
  std::lock_guard lock(mu_);
  std::vector<PinFile> pins;
  pins.reserve(pins_.size());
  for (const auto& [owner, pin] : pins_) pins.push_back(pin);
  std::sort(pins.begin(), pins.end(), [](const PinFile& a, const PinFile& b) { return a.owner < b.owner; });
  return pins;
}

bool ChunkCache::IsPinned(const Sha256Bytes& digest) {
  std::lock_guard lock(mu_);
  return pin_count_.contains(digest);
}

uint64_t ChunkCache::PinnedBytes(std::string_view except_owner) {
  std::lock_guard lock(mu_);
  absl::flat_hash_set<Sha256Bytes, Sha256Hash> excepted;
  if (auto it = pins_.find(std::string(except_owner)); it != pins_.end()) {
    excepted.insert(it->second.chunks.begin(), it->second.chunks.end());
  }
  uint64_t bytes = 0;
  for (const auto& [digest, count] : pin_count_) {
    if (count == 1 && excepted.contains(digest)) continue;
    auto entry = entries_.find(digest);
    if (entry != entries_.end()) bytes += entry->second.size;
  }
  return bytes;
}

absl::Status ChunkCache::Sync() {
  UniqueFd dir(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return ErrnoError("open", root_);
  if (::syncfs(dir.get()) != 0) return ErrnoError("syncfs", root_);
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> ChunkCache::OpenChunk(const Sha256Bytes& digest, FileStamp* stamp) {
  std::filesystem::path path = PathOf(digest);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      std::lock_guard lock(mu_);
      auto it = entries_.find(digest);
      if (it != entries_.end()) {  // removed behind our back: forget it so it is refetched
        used_bytes_ -= it->second.size;
        entries_.erase(it);
      }
      return absl::NotFoundError(absl::StrCat("chunk ", HexEncode(digest), " not cached"));
    }
    return ErrnoError("open cached chunk", path);
  }
  const FileStamp now = StampOf(fd.get());
  bool verified = false;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(digest);
    if (it != entries_.end()) {
      verified = now.ino != 0 && it->second.verified == now;
      it->second.last_use = ++clock_;
    }
  }
  if (!verified) {
    absl::Status ok = Verify(fd.get(), digest, now);
    if (!ok.ok()) {
      // A file evicted (truncated) while being hashed is not corrupt, just gone.
      if (Discard(digest, now)) {
        corruptions_.fetch_add(1, std::memory_order_relaxed);
        log::Warn("cached chunk is corrupt, removed it to fetch it again",
                  {{"chunk", path.string()}, {"error", ok.message()}});
      }
      return absl::NotFoundError(absl::StrCat("chunk ", HexEncode(digest), " is not cached intact"));
    }
    std::lock_guard lock(mu_);
    auto it = entries_.find(digest);
    if (it != entries_.end()) it->second.verified = now;
  }
  if (stamp != nullptr) *stamp = now;
  return fd;
}

absl::Status ChunkCache::Verify(int fd, const Sha256Bytes& digest, const FileStamp& stamp) {
  if (stamp.ino == 0) return absl::InternalError("cannot stat the chunk file");
  // Reused per thread: chunk verification runs on FUSE worker threads and must not allocate per call.
  constexpr size_t kPiece = 256 << 10;
  thread_local std::unique_ptr<char[]> buffer(new char[kPiece]);
  Sha256 hash;
  uint64_t done = 0;
  while (true) {
    ssize_t n = ::pread(fd, buffer.get(), kPiece, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::DataLossError(absl::StrCat("read: ", std::strerror(errno)));
    if (n == 0) break;
    hash.Update(buffer.get(), static_cast<size_t>(n));
    done += static_cast<uint64_t>(n);
  }
  if (done != stamp.size) return absl::DataLossError("changed size while being read");
  if (hash.Finish() != digest) return absl::DataLossError("its bytes no longer match its digest");
  return absl::OkStatus();
}

bool ChunkCache::Discard(const Sha256Bytes& digest, const FileStamp& seen) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(digest);
  if (it == entries_.end()) return false;
  const std::filesystem::path path = PathOf(digest);
  // Only the file that failed: an eviction and a new Put may have replaced it meanwhile.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_ino) != seen.ino) return false;
  RemoveFile(path);
  used_bytes_ -= it->second.size;
  entries_.erase(it);
  return true;
}

absl::StatusOr<size_t> ChunkCache::Read(const Sha256Bytes& digest, uint64_t offset, std::span<char> dst) {
  TIDE_ASSIGN_OR_RETURN(UniqueFd fd, OpenChunk(digest));
  size_t done = 0;
  while (done < dst.size()) {
    ssize_t n = ::pread(fd.get(), dst.data() + done, dst.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read cached chunk", PathOf(digest));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

}  // namespace tide::cache
