#include "cache/chunk_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "cache/chunk_reader.h"
#include "test/support/temp_dir.h"

namespace tide::cache {
namespace {

std::string ReadChunk(ChunkCache& cache, const Sha256Bytes& d, size_t size, uint64_t offset = 0) {
  std::string out(size, '\0');
  auto n = cache.Read(d, offset, std::span<char>(out.data(), out.size()));
  REQUIRE(n.ok());
  out.resize(*n);
  return out;
}

TEST_CASE("chunk cache stores by digest, reads ranges, and survives reopening") {
  testing::TempDir dir;
  std::string a(100000, 'a'), b = "hello world";
  Sha256Bytes da = Sha256Of(a), db = Sha256Of(b);
  {
    auto cache = ChunkCache::Open(dir.path(), 1 << 30);
    REQUIRE(cache.ok());
    CHECK_FALSE((*cache)->Contains(da));
    REQUIRE((*cache)->Put(da, a).ok());
    REQUIRE((*cache)->Put(db, b).ok());
    REQUIRE((*cache)->Put(db, b).ok());  // idempotent: stored once
    CHECK((*cache)->chunk_count() == 2);
    CHECK((*cache)->used_bytes() == a.size() + b.size());
    CHECK(ReadChunk(**cache, db, 5, 6) == "world");
  }
  auto reopened = ChunkCache::Open(dir.path(), 1 << 30);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->Contains(da));
  CHECK((*reopened)->used_bytes() == a.size() + b.size());
  CHECK(ReadChunk(**reopened, da, a.size()) == a);
  auto missing = (*reopened)->Read(Sha256Of("nope"), 0, std::span<char>());
  CHECK(absl::IsNotFound(missing.status()));
}

TEST_CASE("chunk cache stores a chunk larger than one write piece byte for byte") {
  // Put writes in 512 KiB pieces: a 2 MiB chunk plus an odd tail, every byte depending on its
  // position, comes back whole and in order through a reopened cache, which hashes the file again.
  testing::TempDir dir;
  std::string big((2 << 20) + 4093, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131 + i / 4096) & 0xff);
  const Sha256Bytes d = Sha256Of(big);
  {
    auto cache = ChunkCache::Open(dir.path(), 1 << 30);
    REQUIRE(cache.ok());
    REQUIRE((*cache)->Put(d, big).ok());
    CHECK((*cache)->used_bytes() == big.size());
  }
  auto reopened = ChunkCache::Open(dir.path(), 1 << 30);
  REQUIRE(reopened.ok());
  CHECK(ReadChunk(**reopened, d, big.size()) == big);
  CHECK(ReadChunk(**reopened, d, 10, (512 << 10) - 5) == big.substr((512 << 10) - 5, 10));
}

TEST_CASE("chunk cache removes torn temp files and evicts least recently used chunks") {
  testing::TempDir dir;
  {
    auto cache = ChunkCache::Open(dir.path(), 1 << 20);
    REQUIRE(cache.ok());
  }
  testing::WriteFile(dir.path() / "tmp" / "partial", "half a chunk");
  auto cache = ChunkCache::Open(dir.path(), 350000);
  REQUIRE(cache.ok());
  CHECK(std::filesystem::is_empty(dir.path() / "tmp"));
  std::string c1(100000, '1'), c2(100000, '2'), c3(100000, '3'), c4(100000, '4');
  REQUIRE((*cache)->Put(Sha256Of(c1), c1).ok());
  REQUIRE((*cache)->Put(Sha256Of(c2), c2).ok());
  REQUIRE((*cache)->Put(Sha256Of(c3), c3).ok());
  CHECK(ReadChunk(**cache, Sha256Of(c1), 10) == std::string(10, '1'));  // c1 now hot, c2 coldest
  REQUIRE((*cache)->Put(Sha256Of(c4), c4).ok());
  CHECK((*cache)->used_bytes() <= 350000);
  CHECK((*cache)->Contains(Sha256Of(c1)));
  CHECK_FALSE((*cache)->Contains(Sha256Of(c2)));
  CHECK((*cache)->Contains(Sha256Of(c4)));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "chunks" / HexEncode(Sha256Of(c2)).substr(0, 2) /
                                      HexEncode(Sha256Of(c2))));
}

TEST_CASE("a second opener of a live cache is refused and touches nothing") {
  testing::TempDir dir("tide-cache");
  auto first = ChunkCache::Open(dir.path(), 1 << 20);
  REQUIRE(first.ok());
  std::string a(1000, 'a');
  REQUIRE((*first)->Put(Sha256Of(a), a).ok());
  // A write in flight: Open's scan would delete it, and an eviction pass would drop chunks.
  std::ofstream(dir.path() / "tmp" / "inflight").put('x');

  auto second = ChunkCache::Open(dir.path(), 1);
  REQUIRE(absl::IsFailedPrecondition(second.status()));
  CHECK_THAT(std::string(second.status().message()), Catch::Contains(dir.path().string()));
  CHECK(std::filesystem::exists(dir.path() / "tmp" / "inflight"));
  CHECK(ReadChunk(**first, Sha256Of(a), a.size()) == a);

  first->reset();
  CHECK(ChunkCache::Open(dir.path(), 1 << 20).ok());
}

std::filesystem::path ChunkPath(const std::filesystem::path& root, const Sha256Bytes& d) {
  return root / "chunks" / HexEncode(d).substr(0, 2) / HexEncode(d);
}

// What a failing disk or a stray writer does: same size, one byte different.
void FlipByte(const std::filesystem::path& file, off_t at) {
  int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(fd >= 0);
  char c = 0;
  REQUIRE(::pread(fd, &c, 1, at) == 1);
  c = static_cast<char>(c ^ 0x5a);
  REQUIRE(::pwrite(fd, &c, 1, at) == 1);
  ::close(fd);
}

std::string ReadThroughReader(ChunkCache& cache, const Sha256Bytes& d, size_t size, absl::Status* status) {
  std::string out(size, '\0');
  auto n = ReadCachedChunk(cache, d, 0, std::span<char>(out.data(), out.size()));
  *status = n.status();
  if (n.ok()) out.resize(*n);
  return out;
}

TEST_CASE("a chunk corrupted on disk is removed, never served, whether found at open or by a reader") {
  testing::TempDir dir;
  std::string a(300000, 'a'), b(200000, 'b');
  for (size_t i = 0; i < a.size(); i += 7) a[i] = static_cast<char>(i);
  const Sha256Bytes da = Sha256Of(a), db = Sha256Of(b);
  {
    auto cache = ChunkCache::Open(dir.path(), 1 << 30);
    REQUIRE(cache.ok());
    REQUIRE((*cache)->Put(da, a).ok());
    REQUIRE((*cache)->Put(db, b).ok());
    absl::Status st;
    // The reader keeps `a` open; a write to the file under it is seen at the next read.
    REQUIRE(ReadThroughReader(**cache, da, a.size(), &st) == a);
    FlipByte(ChunkPath(dir.path(), da), 150000);
    ReadThroughReader(**cache, da, a.size(), &st);
    CHECK(absl::IsNotFound(st));
    CHECK_FALSE((*cache)->Contains(da));
    CHECK_FALSE(std::filesystem::exists(ChunkPath(dir.path(), da)));
    CHECK((*cache)->corruptions() == 1);
    CHECK((*cache)->used_bytes() == b.size());
    // Stored again (refetched), it reads correctly.
    REQUIRE((*cache)->Put(da, a).ok());
    REQUIRE(ReadThroughReader(**cache, da, a.size(), &st) == a);
  }
  // Corrupted while no process had the cache open: found at the first open after the restart.
  FlipByte(ChunkPath(dir.path(), db), 10);
  auto reopened = ChunkCache::Open(dir.path(), 1 << 30);
  REQUIRE(reopened.ok());
  std::string out(b.size(), '\0');
  auto n = (*reopened)->Read(db, 0, std::span<char>(out.data(), out.size()));
  CHECK(absl::IsNotFound(n.status()));
  CHECK((*reopened)->corruptions() == 1);
  // A truncated file is just as corrupt.
  std::filesystem::resize_file(ChunkPath(dir.path(), da), 1000);
  n = (*reopened)->Read(da, 0, std::span<char>(out.data(), 1000));
  CHECK(absl::IsNotFound(n.status()));
  CHECK((*reopened)->corruptions() == 2);
  CHECK((*reopened)->chunk_count() == 0);
  // Chunks are not fsync'ed one by one: an empty file under a chunk's name is what a crash before
  // writeback leaves. It is found at the first open after the restart, and a store then works.
  REQUIRE((*reopened)->Put(db, b).ok());
  REQUIRE((*reopened)->Sync().ok());
  reopened->reset();
  std::filesystem::resize_file(ChunkPath(dir.path(), db), 0);
  auto after_crash = ChunkCache::Open(dir.path(), 1 << 30);
  REQUIRE(after_crash.ok());
  CHECK((*after_crash)->Contains(db));
  n = (*after_crash)->Read(db, 0, std::span<char>(out.data(), out.size()));
  CHECK(absl::IsNotFound(n.status()));
  CHECK((*after_crash)->corruptions() == 1);
  REQUIRE((*after_crash)->Put(db, b).ok());
  n = (*after_crash)->Read(db, 0, std::span<char>(out.data(), out.size()));
  REQUIRE(n.ok());
  CHECK(out == b);
}

}  // namespace
}  // namespace tide::cache
