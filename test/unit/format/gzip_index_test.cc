#include <catch2/catch.hpp>
#include <random>

#include "format/blob_reader.h"
#include "format/chunk_decoder.h"
#include "format/gzip_index/gzip_index_builder.h"
#include "format/gzip_index/gzip_index_reader.h"
#include "test/unit/format/synthetic_estargz.h"
#include "test/unit/format/synthetic_tar.h"

namespace tide::format {
namespace {

using tide::testing::GzipMember;
using tide::testing::SyntheticTar;

// Text-like content that compresses but not to nothing, so deflate blocks end at odd bit offsets.
std::string Content(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  static const char* words[] = {"import ", "torch", "numpy ", "def ", "return ",
                                "\n",      "self.", "x = ",   "0x3f"};
  std::string out;
  while (out.size() < size) out += words[rng() % 9];
  out.resize(size);
  return out;
}

struct Layer {
  std::string tar;
  std::string blob;
  Digest digest;
  std::vector<std::pair<std::string, std::string>> files;
};

Layer MakeLayer() {
  Layer l;
  SyntheticTar tar;
  tar.Dir("app");
  for (int i = 0; i < 40; ++i) {
    std::string name = "app/f" + std::to_string(i) + ".py";
    std::string data = Content(static_cast<size_t>(1000 + i * 7919), static_cast<uint32_t>(i));
    tar.File(name, data);
    l.files.emplace_back(name, data);
  }
  tar.Symlink("app/link", "f1.py");
  tar.File("app/empty", "");
  l.tar = tar.Finish();
  l.blob = GzipMember(l.tar);
  l.digest = Digest::Of(l.blob);
  return l;
}

GzipIndexOptions SmallSpans() {
  GzipIndexOptions o;
  o.spacing.compressed_bytes = 2048;
  o.spacing.min_uncompressed_bytes = 0;
  o.spacing.uncompressed_bytes = 16384;
  return o;
}

TEST_CASE("gzip side index serves every file of an unchanged gzip layer", "[gzip_index]") {
  Layer l = MakeLayer();
  StringSource source(l.blob);
  auto built = BuildGzipIndex(source, l.digest, SmallSpans());
  REQUIRE(built.ok());
  CHECK(built->diff_id == Digest::Of(l.tar));
  CHECK(built->chunks > 10);
  auto index = LoadGzipIndex(built->frame, l.digest, l.blob.size());
  REQUIRE(index.ok());
  CHECK(index->format() == LayerFormat::kGzipIndexed);
  CHECK(index->diff_id() == Digest::Of(l.tar));
  StringRangeReader reader(l.blob);
  for (const auto& [name, data] : l.files) {
    EntryId id = index->LookupPath(name);
    REQUIRE(id != kNoEntry);
    auto got = ReadFileRange(reader, *index, id, 0, data.size() + 10);
    REQUIRE(got.ok());
    CHECK(*got == data);
    if (data.size() > 100) {
      auto mid = ReadFileRange(reader, *index, id, 50, 30);
      REQUIRE(mid.ok());
      CHECK(*mid == data.substr(50, 30));
    }
  }
  // Every chunk decodes to its own bytes of the tar stream.
  for (uint32_t i = 0; i < index->chunks().size(); ++i) {
    const ChunkInfo& c = index->chunk(i);
    auto plain =
        DecodeIndexChunk(*index, i, std::string_view(l.blob).substr(c.compressed_offset, c.compressed_size));
    REQUIRE(plain.ok());
    CHECK(*plain == l.tar.substr(c.uncompressed_offset, c.uncompressed_size));
  }
}

TEST_CASE("gzip side index startup set lists the startup files' chunks first", "[gzip_index]") {
  Layer l = MakeLayer();
  GzipIndexOptions o = SmallSpans();
  o.startup_files = {{"app/f30.py", {}}, {"nope", {}}, {"app/f2.py", {{10, 20}}}};
  StringSource source(l.blob);
  auto built = BuildGzipIndex(source, l.digest, o);
  REQUIRE(built.ok());
  auto index = LoadGzipIndex(built->frame, l.digest, l.blob.size());
  REQUIRE(index.ok());
  REQUIRE(!index->startup_chunks().empty());
  const EntryAttr& first = index->attr(index->LookupPath("app/f30.py"));
  const ChunkInfo& c = index->chunk(index->startup_chunks()[0]);
  CHECK(c.uncompressed_offset <= first.data_offset);
  CHECK(first.data_offset < c.uncompressed_offset + c.uncompressed_size);
}

TEST_CASE("gzip side index refuses a blob that does not match", "[gzip_index]") {
  Layer l = MakeLayer();
  StringSource source(l.blob);
  auto built = BuildGzipIndex(source, l.digest, SmallSpans());
  REQUIRE(built.ok());
  SECTION("another layer's digest") {
    auto index = LoadGzipIndex(built->frame, Digest::Of("other"), l.blob.size());
    REQUIRE_FALSE(index.ok());
    CHECK(index.status().code() == absl::StatusCode::kFailedPrecondition);
  }
  SECTION("another size") { CHECK_FALSE(LoadGzipIndex(built->frame, l.digest, l.blob.size() + 1).ok()); }
  SECTION("a truncated index") {
    CHECK_FALSE(LoadGzipIndex(std::string_view(built->frame).substr(0, built->frame.size() / 2), l.digest,
                              l.blob.size())
                    .ok());
  }
  SECTION("tampered blob bytes fail the span's digest, never serve wrong data") {
    auto index = LoadGzipIndex(built->frame, l.digest, l.blob.size());
    REQUIRE(index.ok());
    std::string bad = l.blob;
    const ChunkInfo& c = index->chunk(3);
    bad[c.compressed_offset + c.compressed_size / 2] ^= 0x20;
    auto plain =
        DecodeIndexChunk(*index, 3, std::string_view(bad).substr(c.compressed_offset, c.compressed_size));
    REQUIRE_FALSE(plain.ok());
    CHECK(plain.status().code() == absl::StatusCode::kDataLoss);
  }
  SECTION("building from a blob that is not the digest's") {
    std::string bad = l.blob;
    bad[bad.size() / 2] ^= 1;
    StringSource other(bad);
    CHECK_FALSE(BuildGzipIndex(other, l.digest, SmallSpans()).ok());
  }
  SECTION("truncated gzip") {
    std::string cut = l.blob.substr(0, l.blob.size() - 20);
    StringSource other(cut);
    auto r = BuildGzipIndex(other, Digest::Of(cut), SmallSpans());
    REQUIRE_FALSE(r.ok());
  }
  SECTION("two gzip members") {
    std::string two = l.blob + GzipMember("x");
    StringSource other(two);
    auto r = BuildGzipIndex(other, Digest::Of(two), SmallSpans());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kUnimplemented);
  }
}

TEST_CASE("gzip side index refuses a multi-member blob with a clear error, so the layer is pulled whole",
          "[gzip_index]") {
  Layer l = MakeLayer();
  // Valid gzip (gunzip reads both members), but spans of a second member would need a second header.
  const std::string half = l.tar.substr(0, l.tar.size() / 2);
  const std::string blob = GzipMember(half) + GzipMember(l.tar.substr(half.size()));
  StringSource source(blob);
  auto built = BuildGzipIndex(source, Digest::Of(blob), SmallSpans());
  REQUIRE_FALSE(built.ok());
  CHECK(built.status().message().find("multi-member gzip") != absl::string_view::npos);
}

}  // namespace
}  // namespace tide::format
