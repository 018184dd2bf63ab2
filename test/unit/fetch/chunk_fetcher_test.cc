#include "fetch/chunk_fetcher.h"

#include <catch2/catch.hpp>
#include <random>
#include <thread>

#include "test/unit/fetch/test_blob.h"

namespace tide::fetch {
namespace {

struct Fixture {
  tide::testing::TempDir dir;
  testing::TestBlob blob;
  std::shared_ptr<testing::FlakyFileSource> source;
  std::shared_ptr<cache::ChunkCache> cache;
  std::shared_ptr<FetchLimiter> limiter = std::make_shared<FetchLimiter>(FetchLimits{});
  std::shared_ptr<ChunkFetcher> fetcher;

  explicit Fixture(int chunks, FetcherOptions options = {}) {
    blob = testing::MakeTestBlob(dir / "blob", chunks, 64 << 10);
    source = std::make_shared<testing::FlakyFileSource>(std::move(*FileBlobSource::Open(blob.path)));
    cache = std::move(*cache::ChunkCache::Open(dir / "cache", 1ull << 32));
    fetcher = std::make_shared<ChunkFetcher>("test-layer", blob.chunks, testing::ZstdDecoder(blob.chunks),
                                             source, cache, limiter, options);
  }
  std::string Cached(uint32_t i) {
    absl::StatusOr<std::string> data = testing::CachedChunk(*cache, blob, i);
    REQUIRE(data.ok());
    return *data;
  }
};

TEST_CASE("adjacent missing chunks are merged into one request up to the limit") {
  FetcherOptions options;
  options.max_merge_bytes = 1 << 30;
  Fixture f(20, options);
  REQUIRE(f.fetcher->Ensure(3, 12, FetchPriority::kOnDemand).ok());
  CHECK(f.source->reads == 1);
  CHECK(f.fetcher->stats().chunks_fetched == 10);
  for (uint32_t i = 3; i <= 12; ++i) CHECK(f.Cached(i) == f.blob.raw[i]);
  CHECK_FALSE(f.fetcher->IsCached(2));
  REQUIRE(f.fetcher->Ensure(0, 19, FetchPriority::kOnDemand).ok());  // two gaps: 0-2 and 13-19
  CHECK(f.source->reads == 3);

  FetcherOptions small;
  small.max_merge_bytes = 2 * f.blob.chunks[0].blob_length + 600;
  Fixture g(8, small);
  REQUIRE(g.fetcher->Ensure(0, 7, FetchPriority::kOnDemand).ok());
  CHECK(g.source->reads == 4);
}

TEST_CASE("cached bytes count every cached chunk, served bytes only those a read was answered from") {
  Fixture f(6);
  CHECK(f.fetcher->cached_bytes().cached == 0);
  REQUIRE(f.fetcher->Ensure(1, 4, FetchPriority::kOnDemand).ok());
  const auto blob_bytes = [&](uint32_t first, uint32_t last) {
    uint64_t n = 0;
    for (uint32_t i = first; i <= last; ++i) n += f.blob.chunks[i].blob_length;
    return n;
  };
  ChunkFetcher::CachedBytes bytes = f.fetcher->cached_bytes();
  CHECK(bytes.cached == blob_bytes(1, 4));
  CHECK(bytes.served == 0);  // Ensure alone (a walk's, a read-ahead's) serves nobody
  f.fetcher->NoteServed(2, 3);
  f.fetcher->NoteServed(3, 99);  // clamped to the layer's chunks; chunk 5 is not cached
  bytes = f.fetcher->cached_bytes();
  CHECK(bytes.cached == blob_bytes(1, 4));
  CHECK(bytes.served == blob_bytes(2, 4));
  f.fetcher->MarkEvicted(2);
  CHECK(f.fetcher->cached_bytes().served == blob_bytes(3, 4));
}

TEST_CASE("many threads reading random ranges fetch each chunk exactly once") {
  FetcherOptions options;
  options.max_merge_bytes = 256 << 10;
  Fixture f(64, options);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int k = 0; k < 40; ++k) {
        uint32_t a = rng() % 64, b = rng() % 64;
        if (a > b) std::swap(a, b);
        if (!f.fetcher->Ensure(a, b, FetchPriority::kOnDemand).ok()) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  uint32_t fetched = 0;
  for (uint32_t i = 0; i < 64; ++i) fetched += f.fetcher->IsCached(i) ? 1 : 0;
  CHECK(f.fetcher->stats().chunks_fetched == fetched);
  for (uint32_t i = 0; i < 64; ++i) {
    if (f.fetcher->IsCached(i)) CHECK(f.Cached(i) == f.blob.raw[i]);
  }
}

TEST_CASE("an unreachable source fails after the timeout and recovers when it returns") {
  FetcherOptions options;
  options.read_timeout = std::chrono::milliseconds(600);
  options.retry_backoff = std::chrono::milliseconds(50);
  Fixture f(4, options);
  f.source->down = true;
  auto start = std::chrono::steady_clock::now();
  absl::Status st = f.fetcher->Ensure(0, 1, FetchPriority::kOnDemand);
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(absl::IsUnavailable(st));
  CHECK(waited >= std::chrono::milliseconds(500));
  CHECK(waited < std::chrono::seconds(5));
  CHECK(f.source->reads > 2);  // it kept retrying
  CHECK_FALSE(f.fetcher->IsCached(0));
  f.source->down = false;
  REQUIRE(f.fetcher->Ensure(0, 1, FetchPriority::kOnDemand).ok());
  CHECK(f.Cached(1) == f.blob.raw[1]);
}

TEST_CASE("a caller's own deadline bounds Ensure: a second call for an evicted chunk gets no new timeout") {
  FetcherOptions options;
  options.read_timeout = std::chrono::seconds(5);
  options.retry_backoff = std::chrono::milliseconds(50);
  Fixture f(4, options);
  f.source->down = true;
  const auto start = std::chrono::steady_clock::now();
  absl::Status st = f.fetcher->Ensure(0, 1, FetchPriority::kOnDemand, start + std::chrono::milliseconds(400));
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK_FALSE(st.ok());
  CHECK(waited >= std::chrono::milliseconds(300));
  CHECK(waited < std::chrono::seconds(2));  // not the 5 s read_timeout
  // A deadline already behind the caller fails at once.
  const auto late = std::chrono::steady_clock::now();
  st = f.fetcher->Ensure(0, 1, FetchPriority::kOnDemand, late - std::chrono::milliseconds(1));
  CHECK_FALSE(st.ok());
  CHECK(std::chrono::steady_clock::now() - late < std::chrono::seconds(1));
}

TEST_CASE("corrupted chunks are rejected and never cached") {
  Fixture f(4);
  f.source->corrupt = true;
  absl::Status st = f.fetcher->Ensure(2, 2, FetchPriority::kOnDemand);
  CHECK(absl::IsDataLoss(st));
  CHECK_FALSE(f.fetcher->IsCached(2));
  CHECK(f.cache->chunk_count() == 0);
  f.source->corrupt = false;
  REQUIRE(f.fetcher->Ensure(2, 2, FetchPriority::kOnDemand).ok());
  CHECK(f.Cached(2) == f.blob.raw[2]);
}

TEST_CASE("a second layer with the same chunks reuses the shared cache") {
  Fixture f(6);
  REQUIRE(f.fetcher->Ensure(0, 5, FetchPriority::kOnDemand).ok());
  auto other_source =
      std::make_shared<testing::FlakyFileSource>(std::move(*FileBlobSource::Open(f.blob.path)));
  ChunkFetcher other("other-layer", f.blob.chunks, testing::ZstdDecoder(f.blob.chunks), other_source, f.cache,
                     f.limiter, {});
  REQUIRE(other.Ensure(0, 5, FetchPriority::kOnDemand).ok());
  CHECK(other_source->reads == 0);
}

TEST_CASE("cancel releases readers waiting on an unreachable source") {
  FetcherOptions options;
  options.read_timeout = std::chrono::seconds(60);
  Fixture f(2, options);
  f.source->down = true;
  absl::Status st;
  std::thread reader([&] { st = f.fetcher->Ensure(0, 0, FetchPriority::kOnDemand); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  f.fetcher->Cancel();
  reader.join();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK(absl::IsCancelled(st));
}

}  // namespace
}  // namespace tide::fetch

namespace tide::fetch {
namespace {

TEST_CASE("bytes streamed past the fetcher cache the chunks that lie wholly within them, once") {
  Fixture f(12);
  REQUIRE(f.fetcher->Ensure(4, 4, FetchPriority::kOnDemand).ok());  // already cached: left alone
  const std::string blob = tide::testing::ReadFile(f.blob.path);
  // Pieces that cut chunks in the middle, offered as the streamed check does: what a chunk that
  // does not end in a piece needs is offered again with the next piece.
  std::string kept;
  uint64_t kept_at = 0;
  for (uint64_t at = 0; at < blob.size(); at += 50000) {
    const std::string piece = blob.substr(at, 50000);
    if (kept.empty()) kept_at = at;
    kept += piece;
    const uint64_t keep_from = f.fetcher->StoreStreamed(kept_at, kept);
    REQUIRE(keep_from >= kept_at);
    REQUIRE(keep_from <= at + piece.size());
    kept.erase(0, keep_from - kept_at);
    kept_at = keep_from;
  }
  CHECK(kept.empty());
  CHECK(f.fetcher->present_count() == 12);
  CHECK(f.fetcher->stats().chunks_fetched == 12);  // 11 streamed, 1 fetched before
  CHECK(f.source->reads == 1);
  for (uint32_t i = 0; i < 12; ++i) CHECK(f.Cached(i) == f.blob.raw[i]);
}

TEST_CASE("a streamed chunk that fails its digest is not cached, and a reader fetches it") {
  Fixture f(4);
  std::string blob = tide::testing::ReadFile(f.blob.path);
  const ChunkRef& c = f.blob.chunks[2];
  blob[c.blob_offset + c.blob_length / 2] ^= 0x11;
  CHECK(f.fetcher->StoreStreamed(0, blob) == blob.size());
  CHECK(f.fetcher->present_count() == 3);
  CHECK_FALSE(f.fetcher->IsCached(2));
  CHECK(f.fetcher->stats().verify_failures == 1);
  REQUIRE(f.fetcher->Ensure(2, 2, FetchPriority::kOnDemand).ok());
  CHECK(f.Cached(2) == f.blob.raw[2]);
}

}  // namespace
}  // namespace tide::fetch
