// zstd:chunked as containers/storage writes it: the layer descriptor locates the TOC and commits to
// the sha256 of its compressed bytes; a file stored whole has only its `digest`, no chunkDigest.
#include "format/zstd_chunked/containers_storage_toc.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "format/blob_reader.h"
#include "format/zstd_chunked/zstd_chunked_footer.h"
#include "test/unit/format/synthetic_estargz.h"

namespace tide::format {
namespace {

std::string Pattern(size_t n) {
  std::string s;
  for (size_t i = 0; s.size() < n; ++i) s += std::to_string(i * 104729) + ";";
  s.resize(n);
  return s;
}

// containers/storage's entries: a file in one chunk names its content by `digest` alone.
void AsContainersStorage(nlohmann::json& toc) {
  for (auto& e : toc["entries"]) {
    if (e.value("type", "") != "reg" || !e.contains("chunkDigest") || e.value("chunkSize", 0) != 0) continue;
    e["digest"] = e["chunkDigest"];
    e.erase("chunkDigest");
  }
}

struct Layer {
  std::string blob;
  std::string compressed_toc;
  uint64_t toc_at = 0;  // of the compressed TOC, after its skippable frame header
};

Layer MakeLayer(const std::function<void(nlohmann::json&)>& edit = AsContainersStorage) {
  testing::SyntheticEstargz w(1000, /*zstd=*/true);
  w.Dir("usr/").File("usr/big", Pattern(3500)).File("usr/small", "hello").Symlink("usr/link", "small");
  Layer layer;
  layer.blob = w.Finish(edit);
  layer.toc_at = w.toc_offset() + 8;
  layer.compressed_toc =
      layer.blob.substr(layer.toc_at, layer.blob.size() - kZstdChunkedTailSize - layer.toc_at);
  return layer;
}

absl::StatusOr<std::string> ReadAll(const std::string& blob, const LayerIndex& index, std::string_view path) {
  StringRangeReader reader(blob);
  return ReadFileRange(reader, index, index.LookupPath(path), 0, 1 << 20);
}

TEST_CASE("a containers/storage zstd:chunked TOC loads by its position and serves verified bytes",
          "[format][zstdchunked]") {
  const Layer layer = MakeLayer();
  auto index = LoadContainersStorageToc(layer.compressed_toc, layer.toc_at, Digest::Of(layer.compressed_toc));
  REQUIRE(index.ok());
  CHECK(index->format() == LayerFormat::kZstdChunked);
  CHECK(ReadAll(layer.blob, *index, "usr/big").value() == Pattern(3500));
  CHECK(ReadAll(layer.blob, *index, "usr/small").value() == "hello");
  // A file stored whole is checked against its `digest`: a flipped byte fails that read only.
  std::string flipped = layer.blob;
  const ChunkInfo& small = index->chunk(index->attr(index->LookupPath("usr/small")).first_chunk);
  flipped[small.compressed_offset] ^= 0x21;
  CHECK_FALSE(ReadAll(flipped, *index, "usr/small").ok());
  CHECK(ReadAll(flipped, *index, "usr/big").value() == Pattern(3500));
  // And the `digest` is what the bytes are checked against.
  const Layer lying = MakeLayer([](nlohmann::json& toc) {
    AsContainersStorage(toc);
    for (auto& e : toc["entries"])
      if (e.value("name", "") == "usr/small") e["digest"] = Digest::Of("hellO").str();
  });
  auto lied = LoadContainersStorageToc(lying.compressed_toc, lying.toc_at, Digest::Of(lying.compressed_toc));
  REQUIRE(lied.ok());
  auto read = ReadAll(lying.blob, *lied, "usr/small");
  REQUIRE_FALSE(read.ok());
  CHECK_THAT(std::string(read.status().message()), Catch::Contains("sha256 does not match"));
}

TEST_CASE("a containers/storage TOC is bound to the manifest checksum and bounded",
          "[format][zstdchunked][security]") {
  const Layer layer = MakeLayer();
  // The checksum covers the compressed bytes, not the JSON.
  CHECK(absl::IsDataLoss(
      LoadContainersStorageToc(layer.compressed_toc, layer.toc_at, Digest::Of("x")).status()));
  std::string tampered = layer.compressed_toc;
  tampered[tampered.size() / 2] ^= 0x01;
  CHECK(absl::IsDataLoss(
      LoadContainersStorageToc(tampered, layer.toc_at, Digest::Of(layer.compressed_toc)).status()));
  IndexLimits tiny;
  tiny.max_memory = 64;
  CHECK_FALSE(
      LoadContainersStorageToc(layer.compressed_toc, layer.toc_at, Digest::Of(layer.compressed_toc), tiny)
          .ok());
  // A file split into chunks must name each chunk's digest; the whole file's does not stand in.
  const Layer split = MakeLayer([](nlohmann::json& toc) {
    for (auto& e : toc["entries"])
      if (e.value("name", "") == "usr/big" && e.value("type", "") == "reg") e.erase("chunkDigest");
  });
  auto refused =
      LoadContainersStorageToc(split.compressed_toc, split.toc_at, Digest::Of(split.compressed_toc));
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(std::string(refused.status().message()), Catch::Contains("chunkDigest"));
}

TEST_CASE("the manifest-position annotation is parsed and bounded, naming it",
          "[format][zstdchunked][security]") {
  auto at = ParseContainersStorageTocPosition("300466:399:1485:1", 300913);
  REQUIRE(at.ok());
  CHECK(at->offset == 300466);
  CHECK(at->size == 399);
  CHECK(at->uncompressed_size == 1485);
  CHECK(ParseContainersStorageTocPosition("300466:399:1485:1").ok());  // blob size not known yet
  for (const std::string bad :
       {"", "1:2:3", "1:2:3:4:5", "300466:399:1485:2", "300466:0:1485:1", "300466:268435457:1:1", "4:10:10:1",
        "300600:399:1485:1", "18446744073709551615:399:1485:1", "-1:399:1485:1", "a:399:1485:1"}) {
    INFO(bad);
    auto parsed = ParseContainersStorageTocPosition(bad, 300913);
    REQUIRE(absl::IsInvalidArgument(parsed.status()));
    CHECK_THAT(std::string(parsed.status().message()), Catch::Contains("manifest-position"));
  }
}

}  // namespace
}  // namespace tide::format
