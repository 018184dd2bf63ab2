#include "format/estargz/estargz_reader.h"

#include <catch2/catch.hpp>

#include "format/blob_reader.h"
#include "format/estargz/estargz_footer.h"
#include "format/gzip_inflate.h"
#include "format/stream_decoder.h"
#include "format/zstd_stream.h"
#include "test/unit/format/synthetic_estargz.h"

namespace tide::format {
namespace {

using testing::SyntheticEstargz;

std::string Pattern(size_t n) {
  std::string s;
  for (size_t i = 0; s.size() < n; ++i) s += std::to_string(i * 7919) + ",";
  s.resize(n);
  return s;
}

SyntheticEstargz Sample() {
  SyntheticEstargz w(1000);
  w.Dir("usr/").Dir("usr/lib/").File("usr/lib/big", Pattern(3500)).File("usr/lib/small", "hello");
  w.File("empty", "").Symlink("usr/lib/link", "big").Hardlink("usr/lib/hard", "usr/lib/small");
  return w;
}

absl::StatusOr<LayerIndex> Load(const std::string& blob, const Digest& toc_digest,
                                const IndexLimits& limits = {}) {
  StringRangeReader reader(blob);
  return LoadEstargzIndex(reader, blob.size(), toc_digest, limits);
}

absl::StatusOr<std::string> ReadAll(const std::string& blob, const LayerIndex& index, std::string_view path) {
  StringRangeReader reader(blob);
  return ReadFileRange(reader, index, index.LookupPath(path), 0, 1 << 20);
}

// The blob with the TOC edited; the TOC digest still matches, so the parser's own checks are tested.
absl::Status LoadEdited(const std::function<void(nlohmann::json&)>& edit) {
  SyntheticEstargz w = Sample();
  std::string blob = w.Finish(edit);
  return Load(blob, w.toc_digest()).status();
}

TEST_CASE("an eStargz layer loads into the common entry table and serves verified file bytes") {
  SyntheticEstargz w = Sample();
  std::string blob = w.Finish();
  auto index = Load(blob, w.toc_digest());
  REQUIRE(index.ok());
  CHECK(index->format() == LayerFormat::kEstargz);
  CHECK(index->diff_id().empty());
  CHECK(index->chunks().size() == 5);  // 4 of big, 1 of small
  CHECK(index->startup_chunks().empty());
  EntryId big = index->LookupPath("usr/lib/big");
  REQUIRE(big != kNoEntry);
  CHECK(index->attr(big).size == 3500);
  CHECK((index->attr(big).mode & 07777) == 0644);
  CHECK(index->attr(big).mtime_sec == 1700000000);
  CHECK(index->type(index->LookupPath("usr/lib/link")) == EntryType::kSymlink);
  CHECK(index->link_target(index->LookupPath("usr/lib/link")) == "big");
  // A hardlink resolves to its target's inode.
  CHECK(index->LookupPath("usr/lib/hard") == index->LookupPath("usr/lib/small"));
  CHECK(ReadAll(blob, *index, "usr/lib/big").value() == Pattern(3500));
  CHECK(ReadAll(blob, *index, "usr/lib/small").value() == "hello");
  CHECK(ReadAll(blob, *index, "empty").value().empty());
  StringRangeReader reader(blob);
  CHECK(ReadFileRange(reader, *index, big, 990, 20).value() == Pattern(3500).substr(990, 20));
  // Chunks tile the blob from the first chunk to the TOC.
  for (size_t i = 0; i + 1 < index->chunks().size(); ++i) {
    CHECK(index->chunk(i).compressed_offset + index->chunk(i).compressed_size ==
          index->chunk(i + 1).compressed_offset);
  }
  CHECK(index->data_end() == w.toc_offset());
}

TEST_CASE("the files before .prefetch.landmark are an eStargz layer's startup set") {
  SyntheticEstargz w(1000);
  w.File("app/main.py", Pattern(1500)).Landmark().File("app/rest", Pattern(10));
  std::string blob = w.Finish();
  auto index = Load(blob, w.toc_digest());
  REQUIRE(index.ok());
  REQUIRE(index->startup_chunks().size() == 2);
  CHECK(index->startup_chunks()[0] == 0);
  CHECK(index->startup_chunks()[1] == 1);
  CHECK(index->startup_end_offset() == index->chunk(2).compressed_offset);
}

TEST_CASE("the footer ctr-remote writes names its TOC offset") {
  // The last 51 bytes of a layer `ctr-remote images convert --estargz` wrote (stargz-snapshotter 0.12).
  const unsigned char bytes[] = {0x1f, 0x8b, 0x08, 0x04, 0,   0,   0,   0,   0,   0xff, 0x1a, 0,   'S',
                                 'G',  0x16, 0,    '0',  '0', '0', '0', '0', '0', '0',  '0',  '0', '0',
                                 '0',  '0',  '0',  '0',  'f', '2', 'S', 'T', 'A', 'R',  'G',  'Z', 0x01,
                                 0,    0,    0xff, 0xff, 0,   0,   0,   0,   0,   0,    0,    0};
  std::string footer(reinterpret_cast<const char*>(bytes), sizeof(bytes));
  CHECK(ParseEstargzFooter(footer, 670).value() == 0xf2);
  CHECK_FALSE(ParseEstargzFooter(footer, 0xf2 + 51).ok());  // the TOC would overlap the footer
  std::string bad = footer;
  bad[33] = 'X';
  CHECK_FALSE(ParseEstargzFooter(bad, 670).ok());
  bad = footer;
  bad[20] = 'g';
  CHECK_FALSE(ParseEstargzFooter(bad, 670).ok());
}

TEST_CASE("an eStargz TOC that does not match the annotated digest is refused") {
  SyntheticEstargz w = Sample();
  std::string blob = w.Finish();
  auto index = Load(blob, Digest::Of("another TOC"));
  REQUIRE_FALSE(index.ok());
  CHECK(absl::IsDataLoss(index.status()));
  CHECK_FALSE(Load(blob, Digest()).ok());
}

TEST_CASE("a tampered eStargz chunk fails its read instead of serving wrong bytes") {
  SyntheticEstargz w = Sample();
  std::string blob = w.Finish();
  auto index = Load(blob, w.toc_digest());
  REQUIRE(index.ok());
  const ChunkInfo& c = index->chunk(index->attr(index->LookupPath("usr/lib/big")).first_chunk + 1);
  // Another valid gzip member in the chunk's place (padded to its range): well-formed, wrong data.
  std::string forged = testing::GzipMember(std::string(1000, 'A'));
  REQUIRE(forged.size() <= c.compressed_size);
  forged.resize(c.compressed_size, '\0');
  std::string evil = blob;
  evil.replace(c.compressed_offset, c.compressed_size, forged);
  auto forged_read = ReadAll(evil, *index, "usr/lib/big");
  REQUIRE_FALSE(forged_read.ok());
  CHECK(absl::IsDataLoss(forged_read.status()));
  std::string flipped = blob;
  flipped[c.compressed_offset + 12] ^= 0x55;
  auto st = ReadAll(flipped, *index, "usr/lib/big");
  REQUIRE_FALSE(st.ok());
  CHECK(absl::IsDataLoss(st.status()));
  CHECK(ReadAll(flipped, *index, "usr/lib/small").value() == "hello");
}

TEST_CASE("a malformed eStargz TOC is an error naming the cause, never a crash") {
  auto entry = [](nlohmann::json& toc, std::string_view name) -> nlohmann::json& {
    for (auto& e : toc["entries"])
      if (e["name"] == name) return e;
    throw std::runtime_error("no entry");
  };
  CHECK_FALSE(
      LoadEdited([&](nlohmann::json& t) { entry(t, "usr/lib/small")["name"] = "../../etc/passwd"; }).ok());
  CHECK_FALSE(LoadEdited([&](nlohmann::json& t) { entry(t, "usr/lib/small")["offset"] = 1; }).ok());
  CHECK_FALSE(LoadEdited([&](nlohmann::json& t) { entry(t, "usr/lib/small")["offset"] = 1ull << 40; }).ok());
  // A size the chunk's member cannot back: it loads, and the read fails its digest.
  SyntheticEstargz w = Sample();
  std::string blob = w.Finish([&](nlohmann::json& t) { entry(t, "usr/lib/small")["size"] = 50; });
  auto index = Load(blob, w.toc_digest());
  REQUIRE(index.ok());
  CHECK(absl::IsDataLoss(ReadAll(blob, *index, "usr/lib/small").status()));
  CHECK_FALSE(LoadEdited([&](nlohmann::json& t) { entry(t, "usr/lib/small")["size"] = "5"; }).ok());
  CHECK_FALSE(LoadEdited([&](nlohmann::json& t) { entry(t, "usr/lib/small")["size"] = -5; }).ok());
  CHECK_FALSE(LoadEdited([&](nlohmann::json& t) { entry(t, "usr/lib/small")["offset"] = 1e300; }).ok());
  CHECK_FALSE(
      LoadEdited([&](nlohmann::json& t) { entry(t, "usr/")["mode"] = 18446744073709551615ull; }).ok());
  CHECK_FALSE(LoadEdited([&](nlohmann::json& t) { entry(t, "usr/lib/small").erase("chunkDigest"); }).ok());
  CHECK_FALSE(LoadEdited([&](nlohmann::json& t) { entry(t, "usr/lib/small")["type"] = "socket"; }).ok());
  CHECK_FALSE(LoadEdited([&](nlohmann::json& t) { entry(t, "usr/lib/big")["chunkSize"] = 100000000; }).ok());
  CHECK_FALSE(LoadEdited([&](nlohmann::json& t) { entry(t, "usr/lib/hard")["linkName"] = "/../x"; }).ok());
  CHECK_FALSE(LoadEdited([&](nlohmann::json& t) { entry(t, "usr/lib/hard")["linkName"] = "nowhere"; }).ok());
  CHECK_FALSE(LoadEdited([&](nlohmann::json& t) { entry(t, "usr/")["xattrs"] = {{"user.a", "!!"}}; }).ok());
  CHECK_FALSE(LoadEdited([&](nlohmann::json& t) { entry(t, "usr/")["modtime"] = "yesterday"; }).ok());
  CHECK_FALSE(LoadEdited([](nlohmann::json& t) { t["version"] = 2; }).ok());
  CHECK_FALSE(LoadEdited([](nlohmann::json& t) { t["entries"] = "none"; }).ok());
  CHECK_FALSE(LoadEdited([](nlohmann::json& t) {
                t["entries"].push_back({{"name", "c"}, {"type", "chunk"}});
              }).ok());
  // A chunk that shares its member with others (newer writers' small-file packing) is not served.
  absl::Status inner = LoadEdited([&](nlohmann::json& t) { entry(t, "usr/lib/small")["innerOffset"] = 10; });
  CHECK(absl::IsUnimplemented(inner));
  // Chunks of one file listed out of order.
  CHECK_FALSE(LoadEdited([](nlohmann::json& t) { std::swap(t["entries"][3], t["entries"][4]); }).ok());
}

TEST_CASE("an eStargz TOC over the memory limit is refused before it is parsed") {
  SyntheticEstargz w(1000);
  for (int i = 0; i < 2000; ++i) w.Dir("d" + std::to_string(i) + "/");
  std::string blob = w.Finish();
  IndexLimits small;
  small.max_memory = 256 << 10;
  auto index = Load(blob, w.toc_digest(), small);
  REQUIRE_FALSE(index.ok());
  CHECK(absl::IsResourceExhausted(index.status()));
  CHECK(Load(blob, w.toc_digest()).ok());
}

TEST_CASE("a cut or corrupt eStargz TOC member is an error") {
  SyntheticEstargz w = Sample();
  std::string blob = w.Finish();
  std::string member = blob.substr(w.toc_offset(), blob.size() - 51 - w.toc_offset());
  CHECK(EstargzTocJson(member).value() == w.toc_json());
  CHECK_FALSE(EstargzTocJson(member.substr(0, member.size() / 2)).ok());
  std::string bad = member;
  bad[member.size() / 2] ^= 0x40;
  CHECK_FALSE(EstargzTocJson(bad).ok());
  CHECK_FALSE(EstargzTocJson("").ok());
  // A gzip bomb: inflating past the limit stops there.
  IndexLimits small;
  small.max_memory = 64 << 10;
  CHECK(absl::IsResourceExhausted(
      EstargzTocJson(testing::GzipMember(std::string(1 << 20, '\0')), small).status()));
}

TEST_CASE("a whole eStargz blob inflates, member after member, to its layer tar") {
  SyntheticEstargz w = Sample();
  std::string blob = w.Finish();
  for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}, blob.size()}) {
    std::unique_ptr<StreamDecoder> inflater = NewGzipStreamDecoder();
    std::string tar;
    for (size_t at = 0; at < blob.size(); at += piece) {
      REQUIRE(
          inflater->Feed(std::string_view(blob).substr(at, piece), [&](std::string_view out) { tar += out; })
              .ok());
    }
    CHECK(inflater->Finish().ok());
    // Headers, contents and the TOC entry, back to back; the footer adds nothing.
    CHECK(tar.size() % 512 == 0);
    CHECK(tar.find(Pattern(3500)) != std::string::npos);
    CHECK(tar.find(w.toc_json()) != std::string::npos);
  }
  std::unique_ptr<StreamDecoder> cut = NewGzipStreamDecoder();
  REQUIRE(cut->Feed(std::string_view(blob).substr(0, blob.size() - 60), [](std::string_view) {}).ok());
  CHECK(absl::IsDataLoss(cut->Finish()));
  std::string bad = blob;
  bad[20] ^= 0x7f;
  std::unique_ptr<StreamDecoder> corrupt = NewGzipStreamDecoder();
  absl::Status fed = corrupt->Feed(bad, [](std::string_view) {});
  CHECK((!fed.ok() || !corrupt->Finish().ok()));
}

TEST_CASE("a zstd:chunked layer (stargz-snapshotter's writer) loads and serves verified bytes") {
  SyntheticEstargz w(1000, /*zstd=*/true);
  w.Dir("usr/")
      .File("usr/big", Pattern(3500))
      .Landmark()
      .File("usr/small", "hello")
      .Symlink("usr/link", "big");
  std::string blob = w.Finish();
  StringRangeReader reader(blob);
  auto index = LoadStargzTocLayerIndex(reader, blob.size(), w.toc_digest());
  REQUIRE(index.ok());
  CHECK(index->format() == LayerFormat::kZstdChunked);
  CHECK(index->data_end() == w.toc_offset());
  CHECK(index->startup_chunks().size() == 4);
  CHECK(ReadAll(blob, *index, "usr/big").value() == Pattern(3500));
  CHECK(ReadAll(blob, *index, "usr/small").value() == "hello");
  // The TOC digest is checked; a flipped byte in a chunk's frame fails that read only.
  CHECK(absl::IsDataLoss(LoadStargzTocLayerIndex(reader, blob.size(), Digest::Of("x")).status()));
  std::string flipped = blob;
  const ChunkInfo& c = index->chunk(index->attr(index->LookupPath("usr/big")).first_chunk + 2);
  flipped[c.compressed_offset + c.compressed_size / 2] ^= 0x21;
  CHECK_FALSE(ReadAll(flipped, *index, "usr/big").ok());
  CHECK(ReadAll(flipped, *index, "usr/small").value() == "hello");
  // The whole blob decompresses to the layer's tar stream; the skippable frames add nothing.
  std::unique_ptr<StreamDecoder> decoder = NewZstdStreamDecoder();
  std::string tar;
  for (size_t at = 0; at < blob.size(); at += 333) {
    REQUIRE(decoder->Feed(std::string_view(blob).substr(at, 333), [&](std::string_view out) { tar += out; })
                .ok());
  }
  CHECK(decoder->Finish().ok());
  CHECK(tar.find(Pattern(3500)) != std::string::npos);
  CHECK(tar.find("stargz.index.json") == std::string::npos);
  // A footer whose TOC lies outside the blob, or a TOC that decompresses past the limit.
  std::string bad = blob;
  bad[bad.size() - 40] ^= 0x40;
  StringRangeReader bad_reader(bad);
  CHECK_FALSE(LoadStargzTocLayerIndex(bad_reader, bad.size(), w.toc_digest()).ok());
  IndexLimits tiny;
  tiny.max_memory = 1024;
  CHECK(
      absl::IsResourceExhausted(LoadStargzTocLayerIndex(reader, blob.size(), w.toc_digest(), tiny).status()));
  CHECK(absl::IsResourceExhausted(
      DecompressZstdBounded(testing::ZstdFrame(std::string(1 << 20, 'z')), 4096).status()));
  CHECK(DecompressZstdBounded(testing::ZstdFrame("abc"), 3).value() == "abc");
  CHECK(absl::IsDataLoss(
      DecompressZstdBounded(testing::ZstdFrame(Pattern(5000)).substr(0, 40), 1 << 20).status()));
}

}  // namespace
}  // namespace tide::format
