#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fetch/chunk_fetcher.h"
#include "fetch/read_ahead_workers.h"
#include "test/unit/fetch/test_blob.h"

namespace tide::fetch {
namespace {

using namespace std::chrono_literals;

// A layer of `chunks` 64 KiB chunks whose fetcher hands read-ahead to two workers. The first
// read-ahead window is one chunk's blob bytes (plus the gap), so window n covers 2^(n-1) chunks.
struct ReadAheadLayer {
  tide::testing::TempDir dir;
  testing::TestBlob blob;
  std::shared_ptr<testing::GatedSource> source;
  std::shared_ptr<ReadAheadWorkers> workers = std::make_shared<ReadAheadWorkers>(2);
  std::shared_ptr<FetchLimiter> limiter = std::make_shared<FetchLimiter>(FetchLimits{});
  std::shared_ptr<ChunkFetcher> fetcher;
  uint64_t chunk_span = 0;  // the largest chunk plus its gap

  explicit ReadAheadLayer(int chunks, std::shared_ptr<ReadAheadWorkers> w = nullptr) {
    if (w) workers = std::move(w);
    blob = testing::MakeTestBlob(dir / "blob", chunks, 64 << 10);
    source = std::make_shared<testing::GatedSource>(std::move(*FileBlobSource::Open(blob.path)));
    for (const ChunkRef& c : blob.chunks) chunk_span = std::max(chunk_span, c.blob_length + 600);
    FetcherOptions options;
    options.first_lookahead_bytes = chunk_span;
    // These tests count requests while readers wait on held ones: no hedges (hedge_test.cc).
    options.hedge_delay = std::chrono::milliseconds(0);
    auto cache = std::move(*cache::ChunkCache::Open(dir / "cache", 1ull << 32));
    fetcher = std::make_shared<ChunkFetcher>("layer", blob.chunks, testing::ZstdDecoder(blob.chunks), source,
                                             std::move(cache), limiter, options, workers);
  }
  ReadAhead Ahead(int chunks, bool only_when_walking = false) const {
    return {.last = static_cast<uint32_t>(blob.chunks.size() - 1),
            .bytes = chunk_span * static_cast<uint64_t>(chunks),
            .only_when_walking = only_when_walking};
  }
  // Waits until the fetcher's read-ahead requests have stored what they claimed.
  bool Settled(size_t present) {
    for (auto end = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < end;) {
      if (fetcher->present_count() == present) return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }
};

// Worker threads become idle shortly after they start: retries a submission until one takes it.
bool SubmitWhenIdle(ReadAheadWorkers& workers, const std::function<void()>& task) {
  for (auto end = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < end;) {
    if (workers.TrySubmit(task)) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

TEST_CASE("a cold read is answered when its own chunk is in, while its read-ahead still arrives") {
  ReadAheadLayer l(8);
  l.source->Hold(l.blob.chunks[0].blob_offset);  // the one request stops after its first half
  auto read = std::async(std::launch::async,
                         [&] { return l.fetcher->Ensure(0, 0, FetchPriority::kOnDemand, {}, l.Ahead(8)); });
  const bool answered = read.wait_for(5s) == std::future_status::ready;
  CHECK(answered);
  if (answered) CHECK(read.get().ok());
  CHECK(l.fetcher->IsCached(0));
  CHECK_FALSE(l.fetcher->present(1));  // still on its way, in the same request
  CHECK(l.fetcher->stats().read_ahead_chunks == 1);
  l.source->Open();
  CHECK(l.Settled(2));
  CHECK(l.source->log().size() == 1);  // reader's chunk and read-ahead: one range request
}

TEST_CASE("read-ahead starts at one chunk and doubles while the reader uses it, up to its bytes") {
  ReadAheadLayer l(24);
  REQUIRE(l.fetcher->Ensure(0, 0, FetchPriority::kOnDemand, {}, l.Ahead(4)).ok());
  REQUIRE(l.Settled(2));  // 0, and 1 read ahead
  REQUIRE(l.fetcher->Ensure(1, 1, FetchPriority::kOnDemand, {}, l.Ahead(4)).ok());
  REQUIRE(l.Settled(4));  // used: the window doubles to 2 and 3
  REQUIRE(l.fetcher->Ensure(2, 2, FetchPriority::kOnDemand, {}, l.Ahead(4)).ok());
  REQUIRE(l.Settled(7));  // window 4 (the cap) from 3: 3 is there, 4-6 come
  for (uint32_t i = 3; i < 24; ++i) {
    REQUIRE(l.fetcher->Ensure(i, i, FetchPriority::kOnDemand, {}, l.Ahead(4)).ok());
    REQUIRE(l.Settled(std::min<size_t>(i + 5, 24)));  // never more than the cap ahead of the reader
  }
  CHECK(l.fetcher->stats().cache_misses == 1);  // only the first read waited for the network
  CHECK(l.fetcher->stats().read_ahead_chunks == 23);
  CHECK(l.fetcher->stats().read_ahead_used == 23);
  CHECK(l.fetcher->stats().chunks_fetched == 24);
}

TEST_CASE("a read jumping into a layer starts no read-ahead; one walking forward does") {
  ReadAheadLayer l(16);
  REQUIRE(l.fetcher->Ensure(6, 6, FetchPriority::kOnDemand, {}, l.Ahead(4, true)).ok());
  CHECK(l.fetcher->stats().read_ahead_chunks == 0);  // chunk 5 was never read
  REQUIRE(l.fetcher->Ensure(7, 7, FetchPriority::kOnDemand, {}, l.Ahead(4, true)).ok());
  CHECK(l.fetcher->stats().read_ahead_chunks == 1);  // 6 was read: the reader walks forward
  CHECK(l.Settled(3));
  CHECK(l.fetcher->IsCached(8));
}

TEST_CASE("a read that finds every read-ahead worker busy fetches its own chunks and nothing more") {
  auto workers = std::make_shared<ReadAheadWorkers>(1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  REQUIRE(SubmitWhenIdle(*workers, [released] { released.wait(); }));
  ReadAheadLayer l(8, workers);
  REQUIRE(l.fetcher->Ensure(0, 0, FetchPriority::kOnDemand, {}, l.Ahead(4)).ok());
  CHECK(l.fetcher->stats().read_ahead_chunks == 0);
  CHECK_FALSE(l.fetcher->IsClaimed(1));  // the read-ahead claim was given back
  // Read-ahead no read waits for is refused the same way; both count as refused.
  l.fetcher->FetchAhead(5, 7);
  CHECK_FALSE(l.fetcher->IsClaimed(5));
  CHECK(l.fetcher->stats().read_ahead_refused == 2);
  l.fetcher->FetchAhead(0, 0);  // nothing to fetch: not a refusal
  CHECK(l.fetcher->stats().read_ahead_refused == 2);
  release.set_value();
}

TEST_CASE("read-ahead workers take a task only when a thread is idle, and finish them before exit") {
  std::atomic<int> ran{0};
  {
    ReadAheadWorkers workers(2);
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    auto task = [&ran, released] {
      released.wait();
      ++ran;
    };
    REQUIRE(SubmitWhenIdle(workers, task));
    REQUIRE(SubmitWhenIdle(workers, task));
    CHECK_FALSE(workers.TrySubmit([&] { ++ran; }));  // both busy: refused, not queued
    release.set_value();
  }
  CHECK(ran == 2);
}

TEST_CASE("a task posted for later runs only once no posted task waits") {
  std::vector<std::string> order;
  std::mutex mu;
  auto record = [&](std::string name) {
    return [&, name] {
      std::lock_guard lock(mu);
      order.push_back(name);
    };
  };
  {
    ReadAheadWorkers workers(1);
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    REQUIRE(SubmitWhenIdle(workers, [released] { released.wait(); }));
    REQUIRE(workers.PostLater(record("later 1")));
    REQUIRE(workers.Post(record("now 1")));
    REQUIRE(workers.PostLater(record("later 2")));
    REQUIRE(workers.Post(record("now 2")));
    CHECK_FALSE(workers.PostLater(record("over the bound"), 2));
    release.set_value();
  }
  CHECK(order == std::vector<std::string>{"now 1", "now 2", "later 1", "later 2"});
}

}  // namespace
}  // namespace tide::fetch
