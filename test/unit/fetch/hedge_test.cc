// A reader waiting for chunks another request carries fetches them itself when that request stalls
// or would reach them too late (FetcherOptions::hedge_delay).
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>

#include "fetch/chunk_fetcher.h"
#include "test/unit/fetch/test_blob.h"

namespace tide::fetch {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A file blob whose first request sends nothing until released, or trickles in `steps` paced steps
// (a slow stream); every later request is answered at once, or fails when `later_fail`.
class FirstRequestSource : public BlobSource {
 public:
  explicit FirstRequestSource(std::unique_ptr<FileBlobSource> inner) : inner_(std::move(inner)) {}
  absl::StatusOr<std::string> ReadAt(uint64_t offset, uint64_t length) override {
    return inner_->ReadAt(offset, length);
  }
  absl::Status ReadInto(uint64_t offset, std::span<char> out, const Progress& progress,
                        Deadline /*deadline*/) override {
    const bool first = requests.fetch_add(1) == 0;
    if (!first && later_fail) return absl::UnavailableError("connection reset by test");
    auto data = inner_->ReadAt(offset, out.size());
    if (!data.ok()) return data.status();
    std::memcpy(out.data(), data->data(), out.size());
    if (first && steps > 0) {
      for (int k = 1; k <= steps; ++k) {
        std::this_thread::sleep_for(step_time);
        if (absl::Status st = progress(out.size() * k / steps); !st.ok()) return st;
      }
      return absl::OkStatus();
    }
    if (first) {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return released_; });
    }
    return progress(out.size());
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  std::string Describe() const override { return "first-request-source"; }

  std::atomic<int> requests{0};
  std::atomic<bool> later_fail{false};
  int steps = 0;  // 0: the first request stalls until Release
  milliseconds step_time{0};

 private:
  std::unique_ptr<FileBlobSource> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

struct HedgeFixture {
  tide::testing::TempDir dir;
  testing::TestBlob blob;
  std::shared_ptr<FirstRequestSource> source;
  std::shared_ptr<cache::ChunkCache> cache;
  std::shared_ptr<ChunkFetcher> fetcher;

  HedgeFixture(int chunks, milliseconds hedge_delay) {
    blob = testing::MakeTestBlob(dir / "blob", chunks, 64 << 10);
    source = std::make_shared<FirstRequestSource>(std::move(*FileBlobSource::Open(blob.path)));
    cache = std::move(*cache::ChunkCache::Open(dir / "cache", 1ull << 32));
    FetcherOptions options;
    options.hedge_delay = hedge_delay;
    options.max_merge_bytes = 1 << 30;
    fetcher =
        std::make_shared<ChunkFetcher>("test-layer", blob.chunks, testing::ZstdDecoder(blob.chunks), source,
                                       cache, std::make_shared<FetchLimiter>(FetchLimits{}), options);
  }
  std::string Cached(uint32_t i) {
    absl::StatusOr<std::string> data = testing::CachedChunk(*cache, blob, i);
    REQUIRE(data.ok());
    return *data;
  }
  // A reader of chunk `i` that starts once the stalled first request is out.
  std::future<absl::Status> SecondReader(uint32_t i) {
    while (source->requests.load() == 0) std::this_thread::sleep_for(milliseconds(5));
    return std::async(std::launch::async,
                      [this, i] { return fetcher->Ensure(i, i, FetchPriority::kOnDemand); });
  }
};

TEST_CASE("hedge: a reader waiting on a stalled request fetches the chunk itself and serves everyone") {
  HedgeFixture f(4, milliseconds(100));
  auto first =
      std::async(std::launch::async, [&] { return f.fetcher->Ensure(1, 1, FetchPriority::kOnDemand); });
  auto second = f.SecondReader(1);
  REQUIRE(second.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(second.get().ok());
  CHECK(f.Cached(1) == f.blob.raw[1]);
  CHECK(f.fetcher->stats().hedges == 1);
  CHECK(f.source->requests == 2);
  // The stalled request is still out; when it ends, its copy of the chunk changes nothing.
  CHECK(first.wait_for(milliseconds(0)) == std::future_status::timeout);
  f.source->Release();
  CHECK(first.get().ok());
  CHECK(f.fetcher->stats().chunks_fetched == 1);
  CHECK(f.Cached(1) == f.blob.raw[1]);
}

TEST_CASE("hedge: off, a reader waits for the request it joined") {
  HedgeFixture f(4, milliseconds(0));
  auto first =
      std::async(std::launch::async, [&] { return f.fetcher->Ensure(1, 1, FetchPriority::kOnDemand); });
  auto second = f.SecondReader(1);
  CHECK(second.wait_for(milliseconds(500)) == std::future_status::timeout);
  f.source->Release();
  CHECK(second.get().ok());
  CHECK(first.get().ok());
  CHECK(f.fetcher->stats().hedges == 0);
  CHECK(f.source->requests == 1);
}

TEST_CASE("hedge: a hedge that fails leaves the chunk to the request it hedged") {
  HedgeFixture f(4, milliseconds(100));
  f.source->later_fail = true;
  auto first =
      std::async(std::launch::async, [&] { return f.fetcher->Ensure(2, 2, FetchPriority::kOnDemand); });
  auto second = f.SecondReader(2);
  while (f.fetcher->stats().hedges == 0) std::this_thread::sleep_for(milliseconds(5));
  // The failed hedge neither failed the reader nor the flight it joined: both still wait.
  CHECK(second.wait_for(milliseconds(300)) == std::future_status::timeout);
  f.source->Release();
  CHECK(first.get().ok());
  CHECK(second.get().ok());
  CHECK(f.Cached(2) == f.blob.raw[2]);
  CHECK(f.fetcher->stats().verify_failures == 0);
}

TEST_CASE(
    "hedge: a chunk deep in a slow stream is fetched on its own; one the stream reaches in time is not") {
  SECTION("slow stream") {
    HedgeFixture f(40, milliseconds(100));
    f.source->steps = 40;  // one chunk per 50 ms: the last one 2 s after the stream starts
    f.source->step_time = milliseconds(50);
    std::vector<uint32_t> all(40);
    for (uint32_t i = 0; i < 40; ++i) all[i] = i;
    auto reserved = f.fetcher->Reserve(all);
    REQUIRE(reserved.size() == 40);
    auto stream =
        std::async(std::launch::async, [&] { return f.fetcher->FetchReserved(reserved, 1 << 30, 1 << 20); });
    const auto start = Clock::now();
    auto reader = f.SecondReader(39);
    REQUIRE(reader.get().ok());
    CHECK(Clock::now() - start < milliseconds(1500));
    CHECK(f.fetcher->stats().hedges == 1);
    CHECK(f.Cached(39) == f.blob.raw[39]);
    CHECK(stream.get().ok());
  }
  SECTION("fast stream") {
    HedgeFixture f(40, milliseconds(3000));
    f.source->steps = 4;
    f.source->step_time = milliseconds(100);
    std::vector<uint32_t> all(40);
    for (uint32_t i = 0; i < 40; ++i) all[i] = i;
    auto reserved = f.fetcher->Reserve(all);
    auto stream =
        std::async(std::launch::async, [&] { return f.fetcher->FetchReserved(reserved, 1 << 30, 1 << 20); });
    auto reader = f.SecondReader(39);
    REQUIRE(reader.get().ok());
    CHECK(stream.get().ok());
    CHECK(f.fetcher->stats().hedges == 0);
    CHECK(f.source->requests == 1);
  }
}

}  // namespace
}  // namespace tide::fetch
