// The whole-layer check of an eStargz or zstd:chunked layer downloads the blob a second time. That is
// background work: it must wait while a container read is waiting, and give way mid-transfer when
// one arrives, without ever skipping or repeating bytes in the hash.
#include "layer/content_verifier.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "cache/chunk_cache.h"
#include "common/sha256.h"
#include "fetch/chunk_fetcher.h"
#include "format/estargz/stargz_toc_index.h"
#include "format/stream_decoder.h"
#include "layer/layer_mount.h"
#include "test/support/temp_dir.h"
#include "test/unit/format/synthetic_estargz.h"

namespace tide::layer {
namespace {

StreamedCheckOptions Through(fetch::FetchLimiter* limiter) {
  StreamedCheckOptions options;
  options.limiter = limiter;
  return options;
}

// Streams its bytes to ReadInto in 64 KiB steps, reporting each; `on_step` runs before each report.
class SteppedBlob : public fetch::BlobSource {
 public:
  explicit SteppedBlob(std::string bytes) : bytes_(std::move(bytes)) {}
  absl::StatusOr<std::string> ReadAt(uint64_t offset, uint64_t length) override {
    if (offset > bytes_.size() || length > bytes_.size() - offset)
      return absl::OutOfRangeError("past the blob");
    return bytes_.substr(offset, length);
  }
  absl::Status ReadInto(uint64_t offset, std::span<char> out, const Progress& progress, Deadline) override {
    ++reads;
    if (offset > bytes_.size() || out.size() > bytes_.size() - offset)
      return absl::OutOfRangeError("past the blob");
    constexpr size_t kStep = 64 << 10;
    for (size_t done = 0; done < out.size();) {
      const size_t n = std::min(kStep, out.size() - done);
      std::copy_n(bytes_.data() + offset + done, n, out.data() + done);
      done += n;
      if (on_step) on_step();
      if (absl::Status st = progress(done); !st.ok()) return st;
    }
    return absl::OkStatus();
  }
  std::string Describe() const override { return "stepped blob"; }

  std::atomic<int> reads{0};
  std::function<void()> on_step;

 private:
  std::string bytes_;
};

std::string Incompressible(size_t n) {
  std::string s(n, '\0');
  uint64_t x = 88172645463325252ull;
  for (char& c : s) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  return s;
}

struct Layer {
  std::string blob;
  Digest diff_id;
};

// An eStargz layer of a few MiB (several 4 MiB pieces) and the sha256 of the tar it decompresses to.
Layer MakeLayer() {
  testing::SyntheticEstargz writer(1 << 20);
  writer.File("a.bin", Incompressible(5 << 20)).File("b.txt", "hello").File("c.bin", Incompressible(4 << 20));
  Layer layer{.blob = writer.Finish(), .diff_id = Digest()};
  std::unique_ptr<format::StreamDecoder> decoder =
      format::NewBlobStreamDecoder(format::LayerFormat::kEstargz);
  Sha256 tar;
  REQUIRE(decoder->Feed(layer.blob, [&](std::string_view out) { tar.Update(out.data(), out.size()); }).ok());
  REQUIRE(decoder->Finish().ok());
  layer.diff_id = Digest::FromSha256(tar.Finish());
  return layer;
}

TEST_CASE("a streamed layer's check waits while a container read is waiting", "[layer][verify][priority]") {
  const Layer layer = MakeLayer();
  SteppedBlob blob(layer.blob);
  fetch::FetchLimiter limiter(fetch::FetchLimits{});
  std::atomic<bool> stop{false};
  std::optional<absl::Status> result;
  {
    auto reading = std::make_unique<fetch::FetchLimiter::OnDemandScope>(limiter);
    std::thread verify([&] {
      result = VerifyStreamedLayer(blob, layer.blob.size(), format::LayerFormat::kEstargz, layer.diff_id,
                                   Through(&limiter), stop);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(blob.reads == 0);
    reading.reset();
    verify.join();
  }
  REQUIRE(result.has_value());
  CHECK(result->ok());
}

TEST_CASE("a streamed layer's check gives way mid-transfer and still hashes every byte once",
          "[layer][verify][priority]") {
  const Layer layer = MakeLayer();
  SteppedBlob blob(layer.blob);
  fetch::FetchLimiter limiter(fetch::FetchLimits{});
  // A container read arrives during the first transfer, once, and is answered 100 ms later.
  std::unique_ptr<fetch::FetchLimiter::OnDemandScope> reading;
  std::thread answered;
  blob.on_step = [&] {
    if (answered.joinable()) return;
    reading = std::make_unique<fetch::FetchLimiter::OnDemandScope>(limiter);
    answered = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      reading.reset();
    });
  };
  std::atomic<bool> stop{false};
  absl::Status verified = VerifyStreamedLayer(blob, layer.blob.size(), format::LayerFormat::kEstargz,
                                              layer.diff_id, Through(&limiter), stop);
  answered.join();
  CHECK(verified.ok());
  const int pieces = static_cast<int>((layer.blob.size() + (4 << 20) - 1) / (4 << 20));
  CHECK(blob.reads == pieces + 1);  // the piece that gave way was fetched again
  // Without a limiter nothing waits (tidectl's own checks).
  SteppedBlob plain(layer.blob);
  CHECK(VerifyStreamedLayer(plain, layer.blob.size(), format::LayerFormat::kEstargz, layer.diff_id,
                            Through(nullptr), stop)
            .ok());
  CHECK(absl::IsDataLoss(VerifyStreamedLayer(plain, layer.blob.size(), format::LayerFormat::kEstargz,
                                             Digest::Of("another tar"), Through(&limiter), stop)));
}

TEST_CASE("a streamed layer's check waiting for its turn ends when the layer is unmounted",
          "[layer][verify]") {
  const Layer layer = MakeLayer();
  SteppedBlob blob(layer.blob);
  fetch::FetchLimiter limiter(fetch::FetchLimits{});
  fetch::FetchLimiter::OnDemandScope reading(limiter);  // never ends
  std::atomic<bool> stop{false};
  std::optional<absl::Status> result;
  std::thread verify([&] {
    result = VerifyStreamedLayer(blob, layer.blob.size(), format::LayerFormat::kEstargz, layer.diff_id,
                                 Through(&limiter), stop);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  verify.join();
  REQUIRE(result.has_value());
  CHECK(absl::IsCancelled(*result));
  CHECK(blob.reads == 0);
}

// An eStargz layer read through a real fetcher and chunk cache, as a mount reads it.
struct FetchedLayer {
  Layer layer;
  std::shared_ptr<const format::LayerIndex> index;
  tide::testing::TempDir dir{"streamed-fill"};
  std::shared_ptr<fetch::ChunkFetcher> fetcher;
};

std::unique_ptr<FetchedLayer> MakeFetchedLayer(testing::SyntheticEstargz& writer, SteppedBlob** blob_out) {
  auto f = std::make_unique<FetchedLayer>();
  f->layer.blob = writer.Finish();
  std::unique_ptr<format::StreamDecoder> decoder =
      format::NewBlobStreamDecoder(format::LayerFormat::kEstargz);
  Sha256 tar;
  REQUIRE(
      decoder->Feed(f->layer.blob, [&](std::string_view out) { tar.Update(out.data(), out.size()); }).ok());
  REQUIRE(decoder->Finish().ok());
  f->layer.diff_id = Digest::FromSha256(tar.Finish());
  auto index =
      format::IndexFromStargzToc(writer.toc_json(), writer.toc_offset(), format::LayerFormat::kEstargz, {});
  REQUIRE(index.ok());
  f->index = std::make_shared<const format::LayerIndex>(std::move(*index));
  auto blob = std::make_shared<SteppedBlob>(f->layer.blob);
  *blob_out = blob.get();
  auto cache = cache::ChunkCache::Open(f->dir / "cache", 1ull << 32);
  REQUIRE(cache.ok());
  f->fetcher = std::make_shared<fetch::ChunkFetcher>(
      "streamed", ChunkRefs(*f->index), IndexChunkDecoder(f->index), blob,
      std::shared_ptr<cache::ChunkCache>(std::move(*cache)),
      std::make_shared<fetch::FetchLimiter>(fetch::FetchLimits{}), fetch::FetcherOptions{});
  return f;
}

TEST_CASE("a streamed layer's check caches every chunk on the way: one download for both",
          "[layer][verify]") {
  testing::SyntheticEstargz writer(1 << 20);
  writer.File("a.bin", Incompressible(5 << 20))
      .File("b.txt", "hello")
      .File("c.bin", Incompressible(3 << 20) + "x");
  SteppedBlob* blob = nullptr;
  auto f = MakeFetchedLayer(writer, &blob);
  REQUIRE(f->fetcher->present_count() == 0);
  REQUIRE(f->fetcher->Ensure(3, 3, fetch::FetchPriority::kOnDemand).ok());  // a read came first
  const int before = blob->reads;
  fetch::FetchLimiter limiter(fetch::FetchLimits{});
  StreamedCheckOptions options = Through(&limiter);
  options.fill = f->fetcher.get();
  int turns = 0;
  options.may_run = [&turns] { return ++turns > 3; };  // a starting workload holds it back a while
  std::atomic<bool> stop{false};
  REQUIRE(VerifyStreamedLayer(*blob, f->layer.blob.size(), format::LayerFormat::kEstargz, f->layer.diff_id,
                              options, stop)
              .ok());
  const int pieces = static_cast<int>((f->layer.blob.size() + (4 << 20) - 1) / (4 << 20));
  CHECK(blob->reads - before == pieces);
  CHECK(f->fetcher->present_count() == f->fetcher->chunk_count());
  CHECK(f->fetcher->stats().bytes_by_kind[static_cast<size_t>(fetch::FetchKind::kBackground)] ==
        f->layer.blob.size());
  CHECK(turns > 3);
}

TEST_CASE("a chunk too large to hold while streaming is left for the ordinary prefetch", "[layer][verify]") {
  testing::SyntheticEstargz writer(32 << 20);
  writer.File("small.txt", "hello")
      .File("huge.bin", Incompressible(kMaxStreamedChunkBytes + (5 << 20)))
      .File("after.txt", "after");
  SteppedBlob* blob = nullptr;
  auto f = MakeFetchedLayer(writer, &blob);
  StreamedCheckOptions options;
  options.fill = f->fetcher.get();
  std::atomic<bool> stop{false};
  REQUIRE(VerifyStreamedLayer(*blob, f->layer.blob.size(), format::LayerFormat::kEstargz, f->layer.diff_id,
                              options, stop)
              .ok());
  const uint32_t huge = f->index->attr(f->index->LookupPath("huge.bin")).first_chunk;
  CHECK_FALSE(f->fetcher->IsCached(huge));
  CHECK(f->fetcher->present_count() == f->fetcher->chunk_count() - 1);
}

}  // namespace
}  // namespace tide::layer
