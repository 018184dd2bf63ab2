#include <catch2/catch.hpp>

#include "fetch/chunk_fetcher.h"
#include "fetch/chunk_stream.h"
#include "format/chunk_stream_decoder.h"
#include "test/unit/fetch/test_blob.h"

namespace tide::fetch {
namespace {

// The fetcher's side of format::ChunkStreamDecoder for a test blob (what layer::IndexChunkStreams is
// for a real index).
class TestChunkStream : public ChunkStream {
 public:
  explicit TestChunkStream(const std::vector<ChunkRef>* chunks) : chunks_(chunks) {}
  void Start(uint32_t index) override {
    const ChunkRef& c = (*chunks_)[index];
    format::ChunkInfo info;
    info.compressed_offset = c.blob_offset;
    info.compressed_size = static_cast<uint32_t>(c.blob_length);
    info.uncompressed_size = static_cast<uint32_t>(c.raw_length);
    info.sha256 = c.digest;
    decoder_.Start(info);
  }
  absl::Status Feed(std::string_view bytes) override { return decoder_.Feed(bytes); }
  absl::StatusOr<std::string_view> Finish() override { return decoder_.Finish(); }

 private:
  const std::vector<ChunkRef>* chunks_;
  format::ChunkStreamDecoder decoder_;
};

// Sends a range in pieces, as a registry does, reporting each. With `wrong_start`, a first "host"
// sends those bytes in place of the range's first ones and drops the connection; then the range
// comes again from its start, right (the next mirror sends all of it).
class PiecewiseSource : public BlobSource {
 public:
  PiecewiseSource(std::unique_ptr<FileBlobSource> inner, size_t piece)
      : inner_(std::move(inner)), piece_(piece) {}
  absl::StatusOr<std::string> ReadAt(uint64_t offset, uint64_t length) override {
    return inner_->ReadAt(offset, length);
  }
  absl::Status ReadInto(uint64_t offset, std::span<char> out, const Progress& progress, Deadline) override {
    absl::StatusOr<std::string> data = inner_->ReadAt(offset, out.size());
    if (!data.ok()) return data.status();
    if (corrupt_at >= offset && corrupt_at < offset + out.size()) (*data)[corrupt_at - offset] ^= 0x5a;
    if (!wrong_start.empty() && wrong_start.size() < out.size()) {
      for (size_t at = 0; at < wrong_start.size(); at += piece_) {
        const size_t n = std::min(piece_, wrong_start.size() - at);
        std::memcpy(out.data() + at, wrong_start.data() + at, n);
        if (absl::Status st = progress(at + n); !st.ok()) return st;
      }
    }
    for (size_t at = 0; at < out.size(); at += piece_) {
      const size_t n = std::min(piece_, out.size() - at);
      std::memcpy(out.data() + at, data->data() + at, n);
      if (absl::Status st = progress(at + n); !st.ok()) return st;
    }
    return absl::OkStatus();
  }
  std::string Describe() const override { return inner_->Describe(); }
  uint64_t corrupt_at = UINT64_MAX;  // a blob offset whose byte this source flips
  std::string wrong_start;

 private:
  std::unique_ptr<FileBlobSource> inner_;
  size_t piece_;
};

struct StreamFixture {
  tide::testing::TempDir dir;
  testing::TestBlob blob;
  std::shared_ptr<PiecewiseSource> source;
  std::shared_ptr<cache::ChunkCache> cache;
  std::shared_ptr<ChunkFetcher> fetcher;

  explicit StreamFixture(size_t piece) {
    blob = testing::MakeTestBlob(dir / "blob", 6, 256 << 10);
    source = std::make_shared<PiecewiseSource>(std::move(*FileBlobSource::Open(blob.path)), piece);
    cache = std::move(*cache::ChunkCache::Open(dir / "cache", 1ull << 32));
    // A decoder that always fails: every chunk stored here must have come through a stream.
    ChunkDecoder whole = [](uint32_t, std::string_view) -> absl::StatusOr<std::string> {
      return absl::InternalError("on-demand chunks must be streamed");
    };
    const std::vector<ChunkRef>* chunks = &blob.chunks;
    fetcher = std::make_shared<ChunkFetcher>("test-layer", blob.chunks, whole, source, cache,
                                             std::make_shared<FetchLimiter>(FetchLimits{}), FetcherOptions{},
                                             std::weak_ptr<ReadAheadWorkers>{},
                                             [chunks] { return std::make_unique<TestChunkStream>(chunks); });
  }
  std::string Cached(uint32_t i) {
    absl::StatusOr<std::string> data = testing::CachedChunk(*cache, blob, i);
    REQUIRE(data.ok());
    return *data;
  }
};

TEST_CASE("on-demand reads decode their chunks as the bytes arrive, whatever the piece size") {
  for (size_t piece : {size_t{997}, size_t{16384}, size_t{1} << 20}) {
    StreamFixture f(piece);
    REQUIRE(f.fetcher->Ensure(1, 4, FetchPriority::kOnDemand).ok());  // one request over gaps
    for (uint32_t i = 1; i <= 4; ++i) CHECK(f.Cached(i) == f.blob.raw[i]);
    CHECK(f.fetcher->stats().requests.load() == 1);
    CHECK_FALSE(f.fetcher->IsCached(0));
  }
}

TEST_CASE("a streamed chunk whose bytes are wrong is refused; the chunks before it in the request stay") {
  StreamFixture f(4096);
  const ChunkRef& bad = f.blob.chunks[3];
  f.source->corrupt_at = bad.blob_offset + bad.blob_length / 2;
  const absl::Status wrong = f.fetcher->Ensure(2, 4, FetchPriority::kOnDemand);
  CHECK(absl::IsDataLoss(wrong));
  CHECK(f.fetcher->stats().verify_failures.load() >= 1);
  CHECK(f.Cached(2) == f.blob.raw[2]);
  CHECK_FALSE(f.fetcher->IsCached(3));
  f.source->corrupt_at = UINT64_MAX;
  REQUIRE(f.fetcher->Ensure(3, 4, FetchPriority::kOnDemand).ok());
  CHECK(f.Cached(3) == f.blob.raw[3]);
  CHECK(f.Cached(4) == f.blob.raw[4]);
}

TEST_CASE("a range sent again from its start decodes the chunk under way from the new bytes") {
  StreamFixture f(3000);
  // The first host sends the head of another chunk's frame: valid zstd of other content, of the
  // same size, so only starting the chunk over gives its digest.
  const ChunkRef& mine = f.blob.chunks[2];
  const ChunkRef& other = f.blob.chunks[4];
  f.source->wrong_start =
      *f.source->ReadAt(other.blob_offset, std::min(mine.blob_length, other.blob_length) / 2);
  REQUIRE(f.fetcher->Ensure(2, 3, FetchPriority::kOnDemand).ok());
  CHECK(f.Cached(2) == f.blob.raw[2]);
  CHECK(f.Cached(3) == f.blob.raw[3]);
  CHECK(f.fetcher->stats().verify_failures.load() == 0);
}

}  // namespace
}  // namespace tide::fetch
