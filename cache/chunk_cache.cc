#include "cache/chunk_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tide::cache {
namespace {

absl::Status ErrnoError(std::string_view what, const std::filesystem::path& path) {
  return absl::InternalError(absl::StrCat(std::string(what), " ", path.string(), ": ", std::strerror(errno)));
}

bool ParseHex(std::string_view hex, Sha256Bytes* out) {
  if (hex.size() != 64) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

absl::Status WriteAll(int fd, std::string_view data, const std::filesystem::path& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("write", path);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<ChunkCache>> ChunkCache::Open(const std::filesystem::path& root,
                                                             uint64_t max_bytes) {
  TIDE_ASSIGN_OR_RETURN(DirLock lock, DirLock::Acquire(root, "chunk cache", "another tide process"));
  std::error_code ec;
  std::filesystem::create_directories(root / "chunks", ec);
  if (!ec) std::filesystem::create_directories(root / "tmp", ec);
  if (ec) return absl::InternalError(absl::StrCat("create cache dir ", root.string(), ": ", ec.message()));
  std::shared_ptr<ChunkCache> cache(new ChunkCache(std::move(lock), max_bytes));
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
    if (!ParseHex(file.path().filename().string(), &digest)) continue;
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

absl::Status ChunkCache::Put(const Sha256Bytes& digest, std::string_view data) {
  if (Contains(digest)) return absl::OkStatus();
  std::filesystem::path final_path = PathOf(digest);
  std::filesystem::path tmp_path =
      root_ / "tmp" / absl::StrCat(HexEncode(digest), ".", ::getpid(), ".", tmp_seq_.fetch_add(1));
  {
    UniqueFd fd(::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd.valid()) return ErrnoError("create", tmp_path);
    absl::Status written = WriteAll(fd.get(), data, tmp_path);
    if (written.ok() && ::fsync(fd.get()) != 0) written = ErrnoError("fsync", tmp_path);
    if (!written.ok()) {
      ::unlink(tmp_path.c_str());
      return written;
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(final_path.parent_path(), ec);
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    absl::Status st = ErrnoError("rename into", final_path);
    ::unlink(tmp_path.c_str());
    return st;
  }
  // The rename is only durable once the directory entry is; without this a crash could lose the chunk
  // (harmless: it is refetched) but never leave a partial one.
  UniqueFd dir(::open(final_path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid()) ::fsync(dir.get());
  std::lock_guard lock(mu_);
  auto [it, inserted] = entries_.try_emplace(digest);
  if (inserted) {
    it->second.size = data.size();
    used_bytes_ += data.size();
  }
  it->second.last_use = ++clock_;
  EvictLocked();
  return absl::OkStatus();
}

void ChunkCache::Touch(const Sha256Bytes& digest) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(digest);
  if (it != entries_.end()) it->second.last_use = ++clock_;
}

void ChunkCache::EvictLocked() {
  if (used_bytes_ <= max_bytes_) return;
  // Evict down to 90% so a full cache does not scan on every insert.
  const uint64_t target = max_bytes_ / 10 * 9;
  std::vector<std::pair<uint64_t, Sha256Bytes>> order;
  order.reserve(entries_.size());
  for (const auto& [digest, entry] : entries_) order.emplace_back(entry.last_use, digest);
  std::sort(order.begin(), order.end());
  for (const auto& [use, digest] : order) {
    if (used_bytes_ <= target) break;
    // Readers holding the file open keep their data; later opens miss and refetch.
    ::unlink(PathOf(digest).c_str());
    used_bytes_ -= entries_[digest].size;
    entries_.erase(digest);
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
}

absl::StatusOr<UniqueFd> ChunkCache::OpenChunk(const Sha256Bytes& digest) {
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
  Touch(digest);
  return fd;
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
