// A restart must mount a running container's eStargz or zstd:chunked layer again while the registry
// is away: Mount keeps the verified TOC in the chunk cache, and Restore builds the index from it
// alone, hashed again before use.

#include "layer/stargz_toc_cache.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "layer/layer_mount.h"
#include "test/support/temp_dir.h"
#include "test/unit/format/synthetic_estargz.h"

namespace tide::layer {
namespace {

class MemoryBlob : public fetch::BlobSource {
 public:
  explicit MemoryBlob(std::string bytes) : bytes_(std::move(bytes)) {}
  absl::StatusOr<std::string> ReadAt(uint64_t offset, uint64_t length) override {
    ++reads;
    if (offset > bytes_.size() || length > bytes_.size() - offset)
      return absl::OutOfRangeError("past the blob");
    return bytes_.substr(offset, length);
  }
  std::string Describe() const override { return "memory blob"; }
  int reads = 0;

 private:
  std::string bytes_;
};

// The registry while it is unreachable.
class UnreachableBlob : public fetch::BlobSource {
 public:
  absl::StatusOr<std::string> ReadAt(uint64_t, uint64_t) override {
    ++reads;
    return absl::UnavailableError("registry unreachable");
  }
  std::string Describe() const override { return "unreachable blob"; }
  int reads = 0;
};

struct Layer {
  std::string blob;
  Digest toc_digest;
  uint64_t toc_offset = 0;
};

Layer MakeLayer(bool zstd) {
  testing::SyntheticEstargz writer(4096, zstd);
  writer.Dir("app").File("app/main.py", std::string(10000, 'm')).File("app/lib.py", "import os\n").Landmark();
  writer.File("data.bin", std::string(9000, 'd'));
  Layer layer;
  layer.blob = writer.Finish();
  layer.toc_digest = writer.toc_digest();
  layer.toc_offset = writer.toc_offset();
  return layer;
}

std::shared_ptr<cache::ChunkCache> OpenCache(const testing::TempDir& dir) {
  auto cache = cache::ChunkCache::Open(dir / "cache", 1 << 30);
  REQUIRE(cache.ok());
  return *cache;
}

IndexLocation Where(const Layer& layer) {
  IndexLocation where;
  where.format = format::LayerFormat::kEstargz;  // what the annotations say for either format
  where.digest = layer.toc_digest;
  where.blob_size = layer.blob.size();
  return where;
}

TEST_CASE("a stargz-TOC layer mounted once builds its index again from the cache alone", "[layer][restore]") {
  for (bool zstd : {false, true}) {
    INFO((zstd ? "zstd:chunked" : "eStargz"));
    testing::TempDir dir;
    const std::shared_ptr<cache::ChunkCache> cache = OpenCache(dir);
    const Layer layer = MakeLayer(zstd);

    MemoryBlob blob(layer.blob);
    auto mounted = LoadLayerIndex(blob, Where(layer), cache.get());
    REQUIRE(mounted.ok());
    CHECK(blob.reads > 0);
    const format::LayerFormat served = (*mounted)->format();
    CHECK(served == (zstd ? format::LayerFormat::kZstdChunked : format::LayerFormat::kEstargz));
    // What the snapshotter records for Restore: the chunks end where the TOC begins.
    CHECK((*mounted)->data_end() == layer.toc_offset);

    IndexLocation restoring = Where(layer);
    restoring.kept_toc = KeptStargzToc{.format = served, .toc_offset = (*mounted)->data_end()};
    UnreachableBlob away;
    auto restored = LoadLayerIndex(away, restoring, cache.get());
    REQUIRE(restored.ok());
    CHECK(away.reads == 0);
    CHECK((*restored)->format() == served);
    CHECK((*restored)->chunks().size() == (*mounted)->chunks().size());
    CHECK((*restored)->startup_chunks().size() == (*mounted)->startup_chunks().size());
    CHECK((*restored)->data_end() == (*mounted)->data_end());
    for (size_t i = 0; i < (*mounted)->chunks().size(); ++i) {
      CHECK((*restored)->chunk(static_cast<uint32_t>(i)).sha256 ==
            (*mounted)->chunk(static_cast<uint32_t>(i)).sha256);
    }

    // Without the kept location Restore reads the blob as Mount did, and so needs the registry.
    UnreachableBlob still_away;
    auto unkept = LoadLayerIndex(still_away, Where(layer), cache.get());
    CHECK_FALSE(unkept.ok());
    CHECK(still_away.reads > 0);
  }
}

TEST_CASE("a TOC that was never kept, or a kept location that does not fit it, falls back to the blob",
          "[layer][restore][security]") {
  testing::TempDir dir;
  const std::shared_ptr<cache::ChunkCache> cache = OpenCache(dir);
  const Layer layer = MakeLayer(false);
  IndexLocation restoring = Where(layer);
  restoring.kept_toc = KeptStargzToc{.format = format::LayerFormat::kEstargz, .toc_offset = layer.toc_offset};

  CHECK(absl::IsNotFound(LoadKeptStargzToc(*cache, layer.toc_digest, *restoring.kept_toc).status()));
  MemoryBlob blob(layer.blob);
  auto index = LoadLayerIndex(blob, restoring, cache.get());
  REQUIRE(index.ok());
  CHECK(blob.reads > 0);

  // Now kept; a location whose chunks would run past the TOC is refused by the TOC checks, and the
  // blob is read instead of trusting it.
  IndexLocation wrong = restoring;
  wrong.kept_toc->toc_offset = 100;
  CHECK_FALSE(LoadKeptStargzToc(*cache, layer.toc_digest, *wrong.kept_toc).ok());
  MemoryBlob again(layer.blob);
  auto reread = LoadLayerIndex(again, wrong, cache.get());
  REQUIRE(reread.ok());
  CHECK(again.reads > 0);
  CHECK((*reread)->data_end() == layer.toc_offset);
}

TEST_CASE("a kept TOC is bound to its digest and bounded by the index memory limit",
          "[layer][restore][security]") {
  testing::TempDir dir;
  const std::shared_ptr<cache::ChunkCache> cache = OpenCache(dir);
  const Layer layer = MakeLayer(false);
  MemoryBlob blob(layer.blob);
  REQUIRE(LoadLayerIndex(blob, Where(layer), cache.get()).ok());
  const KeptStargzToc kept{.format = format::LayerFormat::kEstargz, .toc_offset = layer.toc_offset};
  REQUIRE(LoadKeptStargzToc(*cache, layer.toc_digest, kept).ok());

  // Another layer's TOC digest finds nothing, even though this one's JSON is in the cache.
  CHECK(absl::IsNotFound(LoadKeptStargzToc(*cache, Digest::Of("another toc"), kept).status()));
  // A tide or gzip format is not a stargz TOC.
  CHECK(absl::IsInvalidArgument(
      LoadKeptStargzToc(*cache, layer.toc_digest, {.format = format::LayerFormat::kTide, .toc_offset = 1})
          .status()));
  format::IndexLimits tiny;
  tiny.max_memory = 8;
  CHECK(absl::IsResourceExhausted(LoadKeptStargzToc(*cache, layer.toc_digest, kept, tiny).status()));
}

}  // namespace
}  // namespace tide::layer
