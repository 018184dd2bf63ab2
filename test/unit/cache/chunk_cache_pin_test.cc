// Pins (`tidectl warm`): pinned chunks outlive LRU eviction and a restart; unpinned ones do not.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "cache/chunk_cache.h"
#include "test/support/temp_dir.h"

namespace tide::cache {
namespace {

std::string Chunk(char c) { return std::string(100000, c); }

TEST_CASE("pinned chunks are never evicted, and the pins survive reopening") {
  testing::TempDir dir;
  const std::string a = Chunk('a'), b = Chunk('b'), c = Chunk('c'), d = Chunk('d');
  const std::vector<Sha256Bytes> pinned = {Sha256Of(a), Sha256Of(b)};
  {
    auto cache = ChunkCache::Open(dir.path(), 350000);
    REQUIRE(cache.ok());
    // Pinned before the chunks arrive, as warm does.
    REQUIRE((*cache)->Pin("reg/app:v1", "{\"mode\":\"all\"}", pinned).ok());
    REQUIRE((*cache)->Put(pinned[0], a).ok());
    REQUIRE((*cache)->Put(pinned[1], b).ok());
    REQUIRE((*cache)->Put(Sha256Of(c), c).ok());
    REQUIRE((*cache)->Put(Sha256Of(d), d).ok());  // over the bound: the oldest unpinned one goes
    CHECK((*cache)->Contains(pinned[0]));
    CHECK((*cache)->Contains(pinned[1]));
    CHECK_FALSE((*cache)->Contains(Sha256Of(c)));
    CHECK((*cache)->PinnedBytes() == 200000);
    CHECK((*cache)->PinnedBytes("reg/app:v1") == 0);
  }
  // A smaller bound at the next start evicts at open, but never a pinned chunk.
  auto cache = ChunkCache::Open(dir.path(), 150000);
  REQUIRE(cache.ok());
  CHECK((*cache)->Contains(pinned[0]));
  CHECK((*cache)->Contains(pinned[1]));
  CHECK_FALSE((*cache)->Contains(Sha256Of(d)));
  auto pins = (*cache)->Pins();
  REQUIRE(pins.size() == 1);
  CHECK(pins[0].owner == "reg/app:v1");
  CHECK(pins[0].meta == "{\"mode\":\"all\"}");
  CHECK(pins[0].chunks == pinned);
  // Unpinned, they are ordinary chunks again and the bound applies at once.
  REQUIRE((*cache)->Unpin("reg/app:v1").ok());
  CHECK((*cache)->used_bytes() <= 150000);
  CHECK((*cache)->Pins().empty());
  CHECK(absl::IsNotFound((*cache)->Unpin("reg/app:v1")));
  CHECK(std::filesystem::is_empty(dir.path() / "pins"));
}

TEST_CASE("a digest two owners pin stays pinned until both unpin it") {
  testing::TempDir dir;
  const std::string shared = Chunk('s'), other = Chunk('o');
  auto cache = ChunkCache::Open(dir.path(), 150000);
  REQUIRE(cache.ok());
  const std::vector<Sha256Bytes> one = {Sha256Of(shared)};
  REQUIRE((*cache)->Pin("a", "", one).ok());
  REQUIRE((*cache)->Pin("b", "", one).ok());
  REQUIRE((*cache)->Pin("b", "", one).ok());  // again: replaces, does not count twice
  REQUIRE((*cache)->Put(one[0], shared).ok());
  REQUIRE((*cache)->Unpin("a").ok());
  REQUIRE((*cache)->Put(Sha256Of(other), other).ok());
  CHECK((*cache)->Contains(one[0]));
  REQUIRE((*cache)->Unpin("b").ok());
  CHECK_FALSE((*cache)->IsPinned(one[0]));
}

TEST_CASE("an unreadable pin file is set aside with an error, not half-applied") {
  testing::TempDir dir;
  {
    auto cache = ChunkCache::Open(dir.path(), 1 << 20);
    REQUIRE(cache.ok());
  }
  const std::filesystem::path bad = dir.path() / "pins" / PinFileName("x");
  testing::WriteFile(bad, R"({"owner":"x","meta":"","chunks":["zz"]})");
  const std::filesystem::path renamed = dir.path() / "pins" / PinFileName("y");
  // A file whose name is not its owner's: copied from elsewhere, not ours.
  testing::WriteFile(renamed, R"({"owner":"x","meta":"","chunks":[]})");
  auto cache = ChunkCache::Open(dir.path(), 1 << 20);
  REQUIRE(cache.ok());
  CHECK((*cache)->Pins().empty());
  CHECK(std::filesystem::exists(bad.string() + ".bad"));
  CHECK(std::filesystem::exists(renamed.string() + ".bad"));
}

}  // namespace
}  // namespace tide::cache
