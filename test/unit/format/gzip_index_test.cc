#include <catch2/catch.hpp>
#include <functional>
#include <random>

#include "absl/status/status.h"
#include "format/blob_reader.h"
#include "format/chunk_decoder.h"
#include "format/gzip_index/gzip_index_builder.h"
#include "format/gzip_index/gzip_index_reader.h"
#include "format/index_builder.h"
#include "format/index_loader.h"
#include "test/unit/format/synthetic_estargz.h"
#include "test/unit/format/synthetic_tar.h"
#include "tide/format/v1/layer_index.pb.h"

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
}

// Every file and every span of `blob` (whose tar is `l.tar`) read through a freshly built index.
void CheckServesEverything(const Layer& l, const std::string& blob, const GzipIndexOptions& options) {
  StringSource source(blob);
  auto built = BuildGzipIndex(source, Digest::Of(blob), options);
  REQUIRE(built.ok());
  CHECK(built->diff_id == Digest::Of(l.tar));
  auto index = LoadGzipIndex(built->frame, Digest::Of(blob), blob.size());
  REQUIRE(index.ok());
  StringRangeReader reader(blob);
  for (const auto& [name, data] : l.files) {
    auto got = ReadFileRange(reader, *index, index->LookupPath(name), 0, data.size());
    REQUIRE(got.ok());
    CHECK(*got == data);
  }
  for (uint32_t i = 0; i < index->chunks().size(); ++i) {
    const ChunkInfo& c = index->chunk(i);
    auto plain =
        DecodeIndexChunk(*index, i, std::string_view(blob).substr(c.compressed_offset, c.compressed_size));
    REQUIRE(plain.ok());
    CHECK(*plain == l.tar.substr(c.uncompressed_offset, c.uncompressed_size));
  }
}

TEST_CASE("gzip side index serves a multi-member blob, with a checkpoint at each member", "[gzip_index]") {
  Layer l = MakeLayer();
  // Members cut at odd places, as concatenated streams and pigz-style writers make them; the first
  // and a middle member are smaller than the spacing, so a member start is also a span start.
  const std::vector<size_t> cuts = {0, 700, 9000, 9001, l.tar.size() / 2, l.tar.size()};
  std::string blob;
  for (size_t i = 0; i + 1 < cuts.size(); ++i)
    blob += GzipMember(l.tar.substr(cuts[i], cuts[i + 1] - cuts[i]));
  CheckServesEverything(l, blob, SmallSpans());
  GzipIndexOptions wide;  // spans larger than the members: every span then ends at a member
  wide.spacing.compressed_bytes = 1 << 20;
  wide.spacing.min_uncompressed_bytes = 1 << 20;
  wide.spacing.uncompressed_bytes = 8 << 20;
  CheckServesEverything(l, blob, wide);

  SECTION("member-start marks that do not match the windows are a malformed index") {
    StringSource source(blob);
    auto built = BuildGzipIndex(source, Digest::Of(blob), SmallSpans());
    REQUIRE(built.ok());
    auto raw = DecompressIndexFrame(built->frame, 64 << 20);
    REQUIRE(raw.ok());
    tide::format::v1::LayerIndex pb;
    REQUIRE(pb.ParseFromString(*raw));
    REQUIRE(pb.gzip_member_starts_size() == 4);
    const uint32_t chunks = static_cast<uint32_t>(pb.chunk_compressed_sizes_size());
    auto load = [&](const std::function<void(tide::format::v1::LayerIndex&)>& edit) {
      tide::format::v1::LayerIndex copy = pb;
      edit(copy);
      auto frame = EncodeIndexFrame(copy, 3);
      REQUIRE(frame.ok());
      return LoadGzipIndex(*frame, Digest::Of(blob), blob.size()).status();
    };
    CHECK(load([](auto&) {}).ok());
    // As a reader that predates the field sees it: windowless checkpoints past chunk 0.
    CHECK(absl::IsInvalidArgument(load([](auto& p) { p.clear_gzip_member_starts(); })));
    CHECK(absl::IsInvalidArgument(
        load([](auto& p) { p.set_gzip_member_starts(1, p.gzip_member_starts(1) + 1); })));
    CHECK(absl::IsInvalidArgument(load([](auto& p) { p.add_gzip_member_starts(0); })));
    CHECK(absl::IsInvalidArgument(load([&](auto& p) { p.add_gzip_member_starts(chunks); })));
    CHECK(
        absl::IsInvalidArgument(load([](auto& p) { p.set_gzip_member_starts(0, p.gzip_member_starts(1)); })));
  }
}

// The builder refuses `blob` as Unimplemented (tidectl index leaves the layer out), saying `why`.
void CheckLeftOut(const std::string& blob, const char* why) {
  StringSource source(blob);
  auto r = BuildGzipIndex(source, Digest::Of(blob), SmallSpans());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kUnimplemented);
  CHECK(r.status().message().find(why) != absl::string_view::npos);
}

TEST_CASE("gzip side index leaves out what it cannot describe after a member", "[gzip_index]") {
  Layer l = MakeLayer();
  const std::string two = GzipMember(l.tar.substr(0, 5000)) + GzipMember(l.tar.substr(5000));
  SECTION("trailing bytes that are not a member") {
    for (const std::string& tail : {std::string(512, '\0'), std::string("\x1f"), std::string("garbage")})
      CheckLeftOut(two + tail, "is not a gzip member");
  }
  SECTION("an empty member") {
    for (const std::string& blob :
         {GzipMember(l.tar.substr(0, 5000)) + GzipMember("") + GzipMember(l.tar.substr(5000)),
          two + GzipMember("")})
      CheckLeftOut(blob, "empty");
  }
  SECTION("a truncated second member is a corrupt blob, not a skipped one") {
    const std::string blob = two.substr(0, two.size() - 30);
    StringSource source(blob);
    auto r = BuildGzipIndex(source, Digest::Of(blob), SmallSpans());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kDataLoss);
  }
}

}  // namespace
}  // namespace tide::format
