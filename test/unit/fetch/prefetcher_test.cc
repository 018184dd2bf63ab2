#include "fetch/prefetcher.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "test/unit/fetch/test_blob.h"

namespace tide::fetch {
namespace {

using Clock = std::chrono::steady_clock;

// One layer blob with its fetcher, over a GatedSource so tests can hold and order requests.
struct GatedLayer {
  GatedLayer(const std::filesystem::path& path, int chunks, const std::shared_ptr<FetchLimiter>& limiter) {
    blob = testing::MakeTestBlob(path, chunks, 64 << 10);
    source = std::make_shared<testing::GatedSource>(std::move(*FileBlobSource::Open(blob.path)));
    cache = std::move(*cache::ChunkCache::Open(path.string() + "-cache", 1ull << 32));
    // These tests count requests while readers wait on held ones: no hedges (hedge_test.cc).
    FetcherOptions options;
    options.hedge_delay = std::chrono::milliseconds(0);
    fetcher =
        std::make_shared<ChunkFetcher>(path.filename().string(), blob.chunks,
                                       testing::ZstdDecoder(blob.chunks), source, cache, limiter, options);
  }
  uint64_t offset(uint32_t chunk) const { return blob.chunks[chunk].blob_offset; }
  testing::TestBlob blob;
  std::shared_ptr<testing::GatedSource> source;
  std::shared_ptr<cache::ChunkCache> cache;
  std::shared_ptr<ChunkFetcher> fetcher;
};

std::vector<uint32_t> V(std::initializer_list<uint32_t> v) { return v; }

template <typename Pred>
bool WaitFor(Pred pred) {
  for (int i = 0; i < 500 && !pred(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return pred();
}

TEST_CASE("prefetch plan: startup chunks with their ranks, then the rest") {
  auto plan = MakePrefetchPlan(PrefetchMode::kAll, V({7, 2, 3, 40}), {}, 12);
  CHECK(plan.startup == V({7, 2, 3}));  // 40 is outside the layer
  CHECK(plan.ranks == V({0, 1, 2}));    // no ranks from the index: position in access order
  CHECK(plan.rest);
  auto ranked = MakePrefetchPlan(PrefetchMode::kStartup, V({4, 5}), V({90, 12}), 12);
  CHECK(ranked.ranks == V({90, 12}));
  CHECK_FALSE(ranked.rest);
  CHECK(MakePrefetchPlan(PrefetchMode::kNone, V({1}), {}, 12).empty());
  CHECK(ParsePrefetchMode("all").value() == PrefetchMode::kAll);
  CHECK_FALSE(ParsePrefetchMode("some").ok());
}

TEST_CASE("prefetch fills the cache in large requests within the bandwidth limit") {
  tide::testing::TempDir dir;
  auto blob = testing::MakeTestBlob(dir / "blob", 32, 64 << 10);
  auto source = std::make_shared<testing::FlakyFileSource>(std::move(*FileBlobSource::Open(blob.path)));
  auto cache = std::move(*cache::ChunkCache::Open(dir / "cache", 1ull << 32));
  uint64_t blob_bytes = blob.chunks.back().blob_offset + blob.chunks.back().blob_length;
  // Budget: the whole blob in ~1 s (the bucket starts empty).
  FetchLimits limits{.max_prefetch_concurrency = 2, .prefetch_bytes_per_second = blob_bytes};
  limits.rest_request_bytes = blob_bytes / 4 + 1;
  auto limiter = std::make_shared<FetchLimiter>(limits);
  auto queue = std::make_shared<PrefetchQueue>(limiter, limits);
  auto fetcher = std::make_shared<ChunkFetcher>("layer", blob.chunks, testing::ZstdDecoder(blob.chunks),
                                                source, cache, limiter, FetcherOptions{});
  auto start = Clock::now();
  Prefetcher prefetcher(queue, fetcher, MakePrefetchPlan(PrefetchMode::kAll, V({5, 6}), {}, 32));
  REQUIRE(prefetcher.WaitDone(std::chrono::seconds(20)));
  auto took = Clock::now() - start;
  for (uint32_t i = 0; i < 32; ++i) CHECK(fetcher->IsCached(i));
  CHECK(fetcher->stats().chunks_fetched == 32);
  CHECK(source->reads <= 8);  // startup range plus a handful of large requests
  CHECK(took >= std::chrono::milliseconds(700));
}

TEST_CASE("prefetch stops promptly when its layer goes away") {
  tide::testing::TempDir dir;
  auto blob = testing::MakeTestBlob(dir / "blob", 16, 16 << 10);
  auto source = std::make_shared<testing::FlakyFileSource>(std::move(*FileBlobSource::Open(blob.path)));
  auto cache = std::move(*cache::ChunkCache::Open(dir / "cache", 1ull << 32));
  FetchLimits limits{.max_prefetch_concurrency = 1, .prefetch_bytes_per_second = 1000};  // minutes
  auto limiter = std::make_shared<FetchLimiter>(limits);
  auto queue = std::make_shared<PrefetchQueue>(limiter, limits);
  auto fetcher = std::make_shared<ChunkFetcher>("layer", blob.chunks, testing::ZstdDecoder(blob.chunks),
                                                source, cache, limiter, FetcherOptions{});
  auto start = Clock::now();
  {
    Prefetcher prefetcher(queue, fetcher, MakePrefetchPlan(PrefetchMode::kAll, {}, {}, 16));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK_FALSE(prefetcher.done());
  }
  CHECK(Clock::now() - start < std::chrono::seconds(3));
}

TEST_CASE("the startup sets of all layers are fetched before the rest of any layer") {
  tide::testing::TempDir dir;
  FetchLimits limits;
  auto limiter = std::make_shared<FetchLimiter>(limits);
  auto queue = std::make_shared<PrefetchQueue>(limiter, limits);
  GatedLayer a(dir / "a", 8, limiter), b(dir / "b", 8, limiter);
  // Layer a: no startup set, everything is "rest"; it is queued first and would start at once.
  a.source->Hold(a.offset(0));
  Prefetcher pa(queue, a.fetcher, MakePrefetchPlan(PrefetchMode::kAll, {}, {}, 8));
  Prefetcher pb(queue, b.fetcher, MakePrefetchPlan(PrefetchMode::kAll, V({3, 4}), {}, 8));
  // b's startup request runs although a's rest request is stuck; a's next batches wait for it.
  REQUIRE(WaitFor([&] { return b.fetcher->IsCached(3) && b.fetcher->IsCached(4); }));
  auto blog = b.source->log();
  REQUIRE(!blog.empty());
  CHECK(blog.front().first == b.offset(3));  // b's first request is its startup range
  a.source->Open();
  REQUIRE(pa.WaitDone(std::chrono::seconds(20)));
  REQUIRE(pb.WaitDone(std::chrono::seconds(20)));
  CHECK(b.source->log().size() <= 3);  // startup range, then the rest in large batches
}

TEST_CASE("a startup request reads over gaps of up to 256 KiB instead of making another request") {
  tide::testing::TempDir dir;
  FetchLimits limits;
  auto limiter = std::make_shared<FetchLimiter>(limits);
  auto queue = std::make_shared<PrefetchQueue>(limiter, limits);
  GatedLayer layer(dir / "gaps", 24, limiter);
  auto end = [&](uint32_t c) { return layer.offset(c) + layer.blob.chunks[c].blob_length; };
  // Chunks are about 25 KiB: 0 and 6 are over 64 KiB apart (a request of a reader would skip the
  // gap) but under 256 KiB, so one startup request reads over it; 22 is beyond the window.
  REQUIRE(layer.offset(6) - end(0) > (64 << 10));
  REQUIRE(layer.offset(6) - end(0) < (256 << 10));
  REQUIRE(layer.offset(22) - end(6) > (256 << 10));
  Prefetcher p(queue, layer.fetcher, MakePrefetchPlan(PrefetchMode::kStartup, V({0, 6, 22}), {}, 24));
  REQUIRE(p.WaitDone(std::chrono::seconds(20)));
  auto log = layer.source->log();
  std::sort(log.begin(), log.end());  // two startup streams: either may start first
  REQUIRE(log.size() == 2);
  CHECK(log[0].first == layer.offset(0));
  CHECK(log[0].second == end(6) - layer.offset(0));
  CHECK(log[1].first == layer.offset(22));
  for (uint32_t c : {0u, 6u, 22u}) CHECK(layer.fetcher->IsCached(c));
  // The chunks read over are not part of the set: they are left for whoever needs them.
  for (uint32_t c = 1; c < 6; ++c) CHECK_FALSE(layer.fetcher->IsCached(c));
}

TEST_CASE("WhenStarted waits for the workload's first read, then for its reads to go quiet") {
  FetchLimits limits;
  limits.rest_idle_delay = std::chrono::milliseconds(100);
  auto limiter = std::make_shared<FetchLimiter>(limits);
  auto queue = std::make_shared<PrefetchQueue>(limiter, limits);
  std::atomic<int> started{0}, forgotten{0};
  queue->WhenStarted([&] { ++started; });
  const uint64_t gone = queue->WhenStarted([&] { ++forgotten; });
  queue->ForgetStarted(gone);
  // No read since the mount: the container has not started yet, however long that takes. The
  // page-cache warmer's reads are not the workload's.
  std::thread([&] {
    FetchLimiter::NotWorkloadScope warmer;
    limiter->NoteRead();
  }).join();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(started == 0);
  // Reads keep it starting; once they stop for rest_idle_delay, the hook runs once.
  for (int i = 0; i < 5; ++i) {
    limiter->NoteRead();
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    CHECK(started == 0);
  }
  REQUIRE(WaitFor([&] { return started == 1; }));
  limiter->NoteRead();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK(started == 1);
  CHECK(forgotten == 0);
}

TEST_CASE("startup requests of different layers run in rank order") {
  tide::testing::TempDir dir;
  FetchLimits limits;
  limits.startup_streams = 1;
  auto limiter = std::make_shared<FetchLimiter>(limits);
  auto queue = std::make_shared<PrefetchQueue>(limiter, limits);
  GatedLayer first(dir / "first", 4, limiter), late(dir / "late", 4, limiter),
      early(dir / "early", 4, limiter);
  // `first` occupies the only startup stream while the other two are queued.
  first.source->Hold(first.offset(0));
  Prefetcher p1(queue, first.fetcher, MakePrefetchPlan(PrefetchMode::kStartup, V({0}), V({0}), 4));
  REQUIRE(WaitFor([&] { return first.source->log().size() == 1; }));
  Prefetcher p2(queue, late.fetcher, MakePrefetchPlan(PrefetchMode::kStartup, V({1}), V({50}), 4));
  Prefetcher p3(queue, early.fetcher, MakePrefetchPlan(PrefetchMode::kStartup, V({2}), V({10}), 4));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(late.source->log().empty());
  CHECK(early.source->log().empty());
  // Hold `late` so the order is observable: `early` (rank 10) must be fetched before `late` starts.
  late.source->Hold(late.offset(1));
  first.source->Open();
  REQUIRE(WaitFor([&] { return early.fetcher->IsCached(2); }));
  REQUIRE(WaitFor([&] { return late.source->log().size() == 1; }));
  late.source->Open();
  REQUIRE(p2.WaitDone(std::chrono::seconds(20)));
  CHECK(late.fetcher->IsCached(1));
}

TEST_CASE("readers join a reserved startup request and get chunks as they stream in") {
  tide::testing::TempDir dir;
  FetchLimits limits;
  auto limiter = std::make_shared<FetchLimiter>(limits);
  auto queue = std::make_shared<PrefetchQueue>(limiter, limits);
  GatedLayer l(dir / "l", 8, limiter);
  // The startup request (chunks 0..5, one range) delivers its first half, then stalls at the gate.
  l.source->Hold(l.offset(0));
  Prefetcher p(queue, l.fetcher, MakePrefetchPlan(PrefetchMode::kStartup, V({0, 1, 2, 3, 4, 5}), {}, 8));
  REQUIRE(WaitFor([&] { return l.fetcher->IsCached(0); }));
  // A reader of chunk 1 is served from the stream without a request of its own.
  REQUIRE(l.fetcher->Ensure(1, 1, FetchPriority::kOnDemand).ok());
  // A reader of chunk 5 waits for the stream rather than fetching it again.
  std::atomic<bool> got5{false};
  std::thread reader([&] {
    CHECK(l.fetcher->Ensure(5, 5, FetchPriority::kOnDemand).ok());
    got5 = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK_FALSE(got5);
  l.source->Open();
  reader.join();
  CHECK(got5);
  CHECK(l.source->log().size() == 1);  // the one startup request served every reader
  REQUIRE(p.WaitDone(std::chrono::seconds(5)));
}

// A queue with one startup stream, held by a request of layer `blocker` stuck at its gate, and a
// second layer `l` whose requests queue behind it.
struct StuckStream {
  StuckStream() {
    limits.startup_streams = 1;
    limiter = std::make_shared<FetchLimiter>(limits);
    queue = std::make_shared<PrefetchQueue>(limiter, limits);
    blocker = std::make_unique<GatedLayer>(dir / "blocker", 2, limiter);
    l_ = std::make_unique<GatedLayer>(dir / "l", 4, limiter);
    blocker->source->Hold(blocker->offset(0));
    stuck = std::make_unique<Prefetcher>(queue, blocker->fetcher,
                                         MakePrefetchPlan(PrefetchMode::kStartup, V({0}), {}, 2));
    REQUIRE(WaitFor([&] { return blocker->source->log().size() == 1; }));
  }
  ~StuckStream() { blocker->source->Open(); }
  tide::testing::TempDir dir;
  FetchLimits limits;
  std::shared_ptr<FetchLimiter> limiter;
  std::shared_ptr<PrefetchQueue> queue;
  std::unique_ptr<GatedLayer> blocker, l_;
  std::unique_ptr<Prefetcher> stuck;
};

TEST_CASE("a reader takes over a reserved chunk whose request has not started") {
  StuckStream f;
  GatedLayer& l = *f.l_;
  auto& queue = f.queue;
  Prefetcher p(queue, l.fetcher, MakePrefetchPlan(PrefetchMode::kStartup, V({2}), V({5}), 4));
  // l's request is queued behind the stuck one; the reader must not wait for it.
  REQUIRE(l.fetcher->Ensure(2, 2, FetchPriority::kOnDemand).ok());
  CHECK(l.source->log().size() == 1);
  f.blocker->source->Open();
  REQUIRE(p.WaitDone(std::chrono::seconds(5)));
  CHECK(l.source->log().size() == 1);  // the queued request found nothing left to fetch
}

TEST_CASE("unmounting gives back reservations so waiting readers fetch for themselves") {
  StuckStream f;
  GatedLayer& l = *f.l_;
  auto& queue = f.queue;
  auto p =
      std::make_unique<Prefetcher>(queue, l.fetcher, MakePrefetchPlan(PrefetchMode::kAll, V({3}), {}, 4));
  p.reset();  // dropped before its request ran
  CHECK(l.source->log().empty());
  REQUIRE(l.fetcher->Ensure(3, 3, FetchPriority::kOnDemand).ok());
  CHECK(l.source->log().size() == 1);
  f.blocker->source->Open();
}

TEST_CASE("after a startup set, the rest waits until the workload's reads go quiet") {
  tide::testing::TempDir dir;
  FetchLimits limits;
  limits.rest_idle_delay = std::chrono::milliseconds(400);
  auto limiter = std::make_shared<FetchLimiter>(limits);
  auto queue = std::make_shared<PrefetchQueue>(limiter, limits);
  GatedLayer l(dir / "l", 8, limiter);
  Prefetcher p(queue, l.fetcher, MakePrefetchPlan(PrefetchMode::kAll, V({0}), {}, 8));
  // The workload keeps reading (here: its startup chunk, cached after the first read).
  const auto until = Clock::now() + std::chrono::milliseconds(1200);
  while (Clock::now() < until) {
    REQUIRE(l.fetcher->Ensure(0, 0, FetchPriority::kOnDemand).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(l.source->log().size() == 1);  // the startup request only
  CHECK_FALSE(p.done());
  // Quiet now: the rest follows.
  REQUIRE(p.WaitDone(std::chrono::seconds(5)));
  CHECK(l.source->log().size() == 2);
}

TEST_CASE("without a startup set, the rest still waits until reads on the node go quiet") {
  tide::testing::TempDir dir;
  FetchLimits limits;
  limits.rest_idle_delay = std::chrono::milliseconds(400);
  auto limiter = std::make_shared<FetchLimiter>(limits);
  auto queue = std::make_shared<PrefetchQueue>(limiter, limits);
  GatedLayer l(dir / "l", 8, limiter);
  GatedLayer other(dir / "other", 2, limiter);
  REQUIRE(other.fetcher->Ensure(0, 0, FetchPriority::kOnDemand).ok());
  Prefetcher p(queue, l.fetcher, MakePrefetchPlan(PrefetchMode::kAll, std::vector<uint32_t>{}, {}, 8));
  // A workload reads another layer of the node: this layer's rest waits all the same.
  const auto until = Clock::now() + std::chrono::milliseconds(1200);
  while (Clock::now() < until) {
    REQUIRE(other.fetcher->Ensure(0, 0, FetchPriority::kOnDemand).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(l.source->log().empty());
  REQUIRE(p.WaitDone(std::chrono::seconds(5)));
  CHECK(l.source->log().size() == 1);
}

TEST_CASE("a background request gives way as soon as a container read waits, and resumes later") {
  tide::testing::TempDir dir;
  FetchLimits limits;
  limits.rest_idle_delay = std::chrono::milliseconds(50);
  auto limiter = std::make_shared<FetchLimiter>(limits);
  auto queue = std::make_shared<PrefetchQueue>(limiter, limits);
  GatedLayer l(dir / "l", 8, limiter);
  l.source->SetSteps(4);
  l.source->Hold(l.offset(0));  // the rest (one request, chunks 0..7) stops after its first quarter
  Prefetcher p(queue, l.fetcher, MakePrefetchPlan(PrefetchMode::kAll, std::vector<uint32_t>{}, {}, 8));
  REQUIRE(WaitFor([&] { return l.fetcher->IsCached(0); }));
  REQUIRE(l.source->log().size() == 1);
  // A container read of another layer, itself held at its gate: an on-demand fetch is waiting.
  GatedLayer other(dir / "other", 2, limiter);
  other.source->Hold(other.offset(0));
  std::thread reader([&] { CHECK(other.fetcher->Ensure(0, 0, FetchPriority::kOnDemand).ok()); });
  REQUIRE(WaitFor([&] { return other.source->log().size() == 1; }));
  // The background bytes keep coming, but the request stops at the next piece: its last chunks are
  // not taken from it.
  l.source->Release(l.offset(0));
  REQUIRE(WaitFor([&] { return l.fetcher->stats().yields.load() == 1; }));
  CHECK_FALSE(l.fetcher->IsCached(7));
  CHECK(l.fetcher->stats().failures.load() == 0);
  other.source->Open();
  reader.join();
  // Reads are quiet again: the rest resumes at the first chunk it did not get.
  REQUIRE(p.WaitDone(std::chrono::seconds(5)));
  for (uint32_t i = 0; i < 8; ++i) CHECK(l.fetcher->IsCached(i));
  const auto log = l.source->log();
  REQUIRE(log.size() == 2);
  CHECK(log[1].first > l.offset(0));
  CHECK(log[1].first <= l.offset(7));
}

}  // namespace
}  // namespace tide::fetch
