// The cache on a filesystem smaller than cache_max_bytes. Mounts a tmpfs, so it needs root.
#include <sys/mount.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "cache/chunk_cache.h"
#include "cache/chunk_reader.h"
#include "test/support/root_only.h"
#include "test/support/temp_dir.h"

namespace tide::cache {
namespace {

std::string ReadChunk(ChunkCache& cache, const Sha256Bytes& d, size_t size) {
  std::string out(size, '\0');
  auto n = cache.Read(d, 0, std::span<char>(out.data(), out.size()));
  REQUIRE(n.ok());
  out.resize(*n);
  return out;
}

// A tmpfs smaller than cache_max_bytes, unmounted on scope exit.
class SmallDisk {
 public:
  SmallDisk(const std::filesystem::path& at, uint64_t bytes) : at_(at) {
    std::filesystem::create_directories(at);
    std::string options = "size=" + std::to_string(bytes);
    mounted_ = ::mount("tide-test-cache", at.c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::filesystem::path at_;
  bool mounted_ = false;
};

TEST_CASE("a cache bound larger than its disk: a full disk evicts to make room instead of failing writes") {
  testing::SkipUnlessRootWithFuse();
  testing::TempDir dir;
  SmallDisk disk(dir.path() / "cache", 2 << 20);
  REQUIRE(disk.mounted());
  auto cache = ChunkCache::Open(dir.path() / "cache", uint64_t{1} << 40);
  REQUIRE(cache.ok());
  std::vector<std::string> chunks;
  for (int i = 0; i < 40; ++i) {
    chunks.push_back(std::string(200000, static_cast<char>('A' + i)));
    absl::Status st = (*cache)->Put(Sha256Of(chunks.back()), chunks.back());
    INFO(i << ": " << st);
    REQUIRE(st.ok());
    // The read path keeps its last chunks open; evicting them must still free their blocks.
    std::string head(10, '\0');
    auto n = ReadCachedChunk(**cache, Sha256Of(chunks.back()), 0, std::span<char>(head.data(), head.size()));
    REQUIRE(n.ok());
  }
  CHECK((*cache)->disk_full_events() > 0);
  CHECK((*cache)->used_bytes() <= (2u << 20));
  // The newest chunk is kept and reads back; the oldest made room.
  CHECK(ReadChunk(**cache, Sha256Of(chunks.back()), 10) == std::string(10, chunks.back()[0]));
  CHECK_FALSE((*cache)->Contains(Sha256Of(chunks.front())));
  CHECK(std::filesystem::is_empty(dir.path() / "cache" / "tmp"));
  // A chunk larger than the whole disk cannot be stored: a clear error, not a crash or a loop.
  std::string huge(3 << 20, 'h');
  absl::Status st = (*cache)->Put(Sha256Of(huge), huge);
  CHECK(absl::IsResourceExhausted(st));
  CHECK_THAT(std::string(st.message()), Catch::Contains("No space left"));
  cache->reset();
}

}  // namespace
}  // namespace tide::cache
