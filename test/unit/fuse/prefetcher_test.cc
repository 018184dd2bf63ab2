#include "fuse/prefetcher.h"

#include <catch2/catch.hpp>

#include "test/unit/fuse/test_blob.h"

namespace tide::fuse {
namespace {

TEST_CASE("prefetch plan puts the startup set first, merged into ranges") {
  auto plan = PrefetchPlan(PrefetchMode::kAll, {7, 2, 3, 4, 9, 3}, 12);
  REQUIRE(plan.size() == 4);
  CHECK(plan[0] == std::make_pair(2u, 4u));
  CHECK(plan[1] == std::make_pair(7u, 7u));
  CHECK(plan[2] == std::make_pair(9u, 9u));
  CHECK(plan[3] == std::make_pair(0u, 11u));
  CHECK(PrefetchPlan(PrefetchMode::kStartup, {1}, 12).size() == 1);
  CHECK(PrefetchPlan(PrefetchMode::kNone, {1}, 12).empty());
  CHECK(ParsePrefetchMode("all").value() == PrefetchMode::kAll);
  CHECK_FALSE(ParsePrefetchMode("some").ok());
}

TEST_CASE("prefetch fills the cache in large requests within the bandwidth limit") {
  tide::testing::TempDir dir;
  auto blob = testing::MakeTestBlob(dir / "blob", 32, 64 << 10);
  auto source = std::make_shared<testing::FlakyFileSource>(std::move(*FileBlobSource::Open(blob.path)));
  auto cache = std::move(*ChunkCache::Open(dir / "cache", 1ull << 32));
  uint64_t blob_bytes = blob.chunks.back().blob_offset + blob.chunks.back().blob_length;
  // Budget: the whole blob in ~1 s (the bucket starts empty).
  auto limiter = std::make_shared<FetchLimiter>(FetchLimits{2, blob_bytes});
  auto fetcher = std::make_shared<ChunkFetcher>("layer", blob.chunks, testing::ZstdDecoder(blob.chunks),
                                                source, cache, limiter, FetcherOptions{});
  auto start = std::chrono::steady_clock::now();
  Prefetcher prefetcher(fetcher, limiter, PrefetchPlan(PrefetchMode::kAll, {5, 6}, 32), blob_bytes / 4 + 1);
  REQUIRE(prefetcher.WaitDone(std::chrono::seconds(20)));
  auto took = std::chrono::steady_clock::now() - start;
  for (uint32_t i = 0; i < 32; ++i) CHECK(fetcher->IsCached(i));
  CHECK(fetcher->stats().chunks_fetched == 32);
  CHECK(source->reads <= 8);  // startup range plus a handful of large requests
  CHECK(took >= std::chrono::milliseconds(700));
}

TEST_CASE("prefetch stops promptly when its layer goes away") {
  tide::testing::TempDir dir;
  auto blob = testing::MakeTestBlob(dir / "blob", 16, 16 << 10);
  auto source = std::make_shared<testing::FlakyFileSource>(std::move(*FileBlobSource::Open(blob.path)));
  auto cache = std::move(*ChunkCache::Open(dir / "cache", 1ull << 32));
  auto limiter = std::make_shared<FetchLimiter>(FetchLimits{1, 1000});  // 1 kB/s: would take minutes
  auto fetcher = std::make_shared<ChunkFetcher>("layer", blob.chunks, testing::ZstdDecoder(blob.chunks),
                                                source, cache, limiter, FetcherOptions{});
  auto start = std::chrono::steady_clock::now();
  {
    Prefetcher prefetcher(fetcher, limiter, PrefetchPlan(PrefetchMode::kAll, {}, 16), 1 << 20);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK_FALSE(prefetcher.done());
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
}

}  // namespace
}  // namespace tide::fuse
