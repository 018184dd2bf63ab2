#include <catch2/catch.hpp>

#include "common/digest.h"
#include "format/layer_index.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"
#include "test/unit/format/format_test_util.h"
#include "test/unit/format/synthetic_tar.h"

namespace tide::format {
namespace {

using testing::SyntheticTar;

std::string Content(char c, size_t n) { return std::string(n, c); }

TEST_CASE("startup files come first in the blob, in access order") {
  std::string tar = SyntheticTar()
                        .Dir("./")
                        .Dir("./a")
                        .File("./a/first", Content('1', 10000))
                        .Dir("./b")
                        .File("./b/second", Content('2', 20000))
                        .File("./b/hot", Content('h', 30000))
                        .Hardlink("./b/hot-link", "./b/hot")
                        .Dir("./c")
                        .File("./c/warm", Content('w', 9000))
                        .File("./c/warm", Content('W', 9100))  // duplicate: the last one must still win
                        .Finish();
  LayerWriterOptions options;
  options.chunk_size = 4096;
  options.small_file_threshold = 1024;
  options.startup = {{"c/warm", {}}, {"./b/hot-link", {{5000, 100}, {20000, 5000}}}, {"not/there", {}}};
  testing::Converted c = testing::ConvertTar(tar, options);
  std::string out = testing::ZstdCliDecompress(c.blob);
  CHECK(out.size() == tar.size());
  CHECK(Digest::Of(out) == c.result.diff_id);
  CHECK(out != tar);

  // The reordered stream is a valid tar with the same files; GNU tar lists the startup files first.
  testing::TempDir dir("tide-startup");
  testing::WriteFile(dir / "out.tar", out);
  auto listing = testing::RunCommand({"tar", "-tf", (dir / "out.tar").string()});
  REQUIRE(listing.exit_code == 0);
  INFO(listing.output);
  CHECK(listing.output.rfind("./c\n./c/warm\n./c/warm\n./b\n./b/hot\n", 0) == 0);
  CHECK(testing::FileContents(out) == testing::FileContents(tar));

  LayerIndex index = testing::LoadIndex(c);
  testing::CheckAllFileReads(c, index, testing::FileContents(tar));
  CHECK(index.attr(index.LookupPath("c/warm")).size == 9100);
  // Startup chunks: all of c/warm, then the chunks of b/hot holding the requested ranges.
  EntryId warm = index.LookupPath("c/warm");
  EntryId hot = index.LookupPath("b/hot");
  std::vector<uint32_t> expected;
  for (uint32_t i = 0; i < index.attr(warm).chunk_count; ++i)
    expected.push_back(index.attr(warm).first_chunk + i);
  ChunkRange r1 = index.ChunksFor(hot, 5000, 100);
  ChunkRange r2 = index.ChunksFor(hot, 20000, 5000);
  for (uint32_t i = 0; i < r1.count; ++i) expected.push_back(r1.first + i);
  for (uint32_t i = 0; i < r2.count; ++i) expected.push_back(r2.first + i);
  std::vector<uint32_t> actual(index.startup_chunks().begin(), index.startup_chunks().end());
  CHECK(actual == expected);
  CHECK(c.result.startup_chunk_count == expected.size());
  // The startup region ends right after b/hot's last chunk, before anything else.
  const ChunkInfo& last_hot = index.chunk(index.attr(hot).first_chunk + index.attr(hot).chunk_count - 1);
  CHECK(index.startup_end_offset() >= last_hot.compressed_offset + last_hot.compressed_size);
  EntryId first = index.LookupPath("a/first");
  CHECK(index.chunk(index.attr(first).first_chunk).compressed_offset >= index.startup_end_offset());
  CHECK(c.result.annotations.at(std::string(kAnnotationStartupEnd)) ==
        std::to_string(index.startup_end_offset()));
}

TEST_CASE("startup ranks: each startup chunk gets the smallest rank of the files it holds") {
  // Small files share chunks, so "s2" and "s1" land in one chunk; "big" spans several of its own.
  std::string tar = SyntheticTar()
                        .File("big", Content('b', 20000))
                        .File("s1", Content('1', 100))
                        .File("s2", Content('2', 100))
                        .File("cold", Content('c', 5000))
                        .Finish();
  LayerWriterOptions options;
  options.chunk_size = 4096;
  options.small_file_threshold = 1024;
  // Ranks as another layer's reads interleaved would leave them: gaps, and not the list order.
  options.startup = {{"s2", {}, 40}, {"s1", {}, 3}, {"big", {{0, 100}, {12000, 10}}, 7}};
  testing::Converted c = testing::ConvertTar(tar, options);
  LayerIndex index = testing::LoadIndex(c);
  auto chunks = index.startup_chunks();
  auto ranks = index.startup_ranks();
  REQUIRE(ranks.size() == chunks.size());
  EntryId s1 = index.LookupPath("s1");
  EntryId s2 = index.LookupPath("s2");
  EntryId big = index.LookupPath("big");
  REQUIRE(index.attr(s1).first_chunk == index.attr(s2).first_chunk);
  uint32_t shared = index.attr(s2).first_chunk;
  ChunkRange head = index.ChunksFor(big, 0, 100);
  ChunkRange tail = index.ChunksFor(big, 12000, 10);
  REQUIRE(head.count == 1);
  REQUIRE(tail.count == 1);
  // Order is first-need order of the list; ranks follow the chunks they describe.
  std::vector<uint32_t> want_chunks = {shared, head.first, tail.first};
  std::vector<uint32_t> want_ranks = {3, 7, 7};  // the shared chunk also holds s1, ranked 3
  CHECK(std::vector<uint32_t>(chunks.begin(), chunks.end()) == want_chunks);
  CHECK(std::vector<uint32_t>(ranks.begin(), ranks.end()) == want_ranks);

  SECTION("one unranked startup file leaves the ranks out") {
    options.startup[2].rank = kUnknownStartupRank;
    testing::Converted u = testing::ConvertTar(tar, options);
    LayerIndex unranked = testing::LoadIndex(u);
    CHECK(unranked.startup_chunks().size() == want_chunks.size());
    CHECK(unranked.startup_ranks().empty());
  }
}

TEST_CASE("an empty startup set leaves the stream untouched") {
  std::string tar = SyntheticTar().File("x", "y").Finish();
  testing::Converted c = testing::ConvertTar(tar);
  LayerIndex index = testing::LoadIndex(c);
  CHECK(index.startup_chunks().empty());
  CHECK(index.startup_end_offset() == 0);
  CHECK(testing::ZstdCliDecompress(c.blob) == tar);
}

}  // namespace
}  // namespace tide::format
