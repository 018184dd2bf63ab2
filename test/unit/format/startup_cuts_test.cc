// Startup files read in part get frames cut at their ranges, so a startup set holds about the bytes
// startup reads rather than every chunk-sized frame a read touches.
#include "format/startup_cuts.h"

#include <catch2/catch.hpp>
#include <random>

#include "common/digest.h"
#include "format/layer_index.h"
#include "test/unit/format/format_test_util.h"
#include "test/unit/format/synthetic_tar.h"

namespace tide::format {
namespace {

constexpr uint64_t kMiB = 1 << 20;

std::vector<uint64_t> Cuts(std::vector<StartupFile::Range> ranges, uint64_t size) {
  return StartupCuts(ranges, size, kStartupMinGap);
}

TEST_CASE("startup cuts: a page read in the middle of a file gets a frame of its own") {
  CHECK(Cuts({}, 64 * kMiB).empty());
  // Widened to whole pages: [8 MiB, 8 MiB + 8 KiB).
  CHECK(Cuts({{8 * kMiB + 100, 5000}}, 64 * kMiB) == std::vector<uint64_t>{8 * kMiB, 8 * kMiB + 8192});
  // Unsorted and overlapping input, clamped to the file.
  CHECK(Cuts({{20 * kMiB, 4096}, {8 * kMiB, 4096}, {8 * kMiB + 1000, 100}}, 64 * kMiB) ==
        std::vector<uint64_t>{8 * kMiB, 8 * kMiB + 4096, 20 * kMiB, 20 * kMiB + 4096});
  CHECK(Cuts({{64 * kMiB, 10}, {70 * kMiB, 10}}, 64 * kMiB).empty());
  // A read of the last bytes: one cut, where its page starts.
  CHECK(Cuts({{64 * kMiB - 10, 100}}, 64 * kMiB) == std::vector<uint64_t>{64 * kMiB - 4096});
}

TEST_CASE("startup cuts: ranges closer than the minimum gap share a frame, as do the file's ends") {
  // Gap of 32 KiB < 64 KiB: one range [1 MiB, 1 MiB + 40 KiB).
  CHECK(Cuts({{kMiB, 4096}, {kMiB + (36 << 10), 4096}}, 64 * kMiB) ==
        std::vector<uint64_t>{kMiB, kMiB + (40 << 10)});
  // Gap of 128 KiB: two ranges.
  CHECK(Cuts({{kMiB, 4096}, {kMiB + (132 << 10), 4096}}, 64 * kMiB).size() == 4);
  // Within the minimum gap of the start (and of the end): no cut there.
  CHECK(Cuts({{8192, 4096}}, 64 * kMiB) == std::vector<uint64_t>{12288});
  CHECK(Cuts({{64 * kMiB - (32 << 10), 4096}}, 64 * kMiB) == std::vector<uint64_t>{64 * kMiB - (32 << 10)});
}

TEST_CASE("startup cuts: the writer's startup set is the pages read, and the file still reads back whole") {
  std::string big(8 * kMiB, '\0');
  std::mt19937 rng(3);
  for (char& ch : big) ch = static_cast<char>(rng());
  std::string tar = testing::SyntheticTar().File("lib/big.so", big).File("other", "x").Finish();
  LayerWriterOptions options;
  options.chunk_size = 2 * kMiB;
  // Two pages, one of them straddling a 2 MiB boundary, and a 100-byte read.
  options.startup = {{"lib/big.so", {{3 * kMiB + 100, 10}, {4 * kMiB - 4096, 8192}, {7 * kMiB, 100}}}};
  testing::Converted c = testing::ConvertTar(tar, options);
  CHECK(Digest::Of(testing::ZstdCliDecompress(c.blob)) == c.result.diff_id);
  LayerIndex index = testing::LoadIndex(c);
  testing::CheckAllFileReads(c, index, testing::FileContents(tar));

  uint64_t startup_uncompressed = 0;
  for (uint32_t id : index.startup_chunks()) startup_uncompressed += index.chunk(id).uncompressed_size;
  // 4 KiB + 8 KiB + 4 KiB of pages, not three 2 MiB chunks.
  CHECK(startup_uncompressed == 16384);
  CHECK(c.result.startup_read_bytes == 10 + 8192 + 100);
  CHECK(c.result.startup_bytes >= startup_uncompressed);  // random bytes do not compress
  CHECK(c.result.startup_bytes < 20000);
  CHECK(c.result.startup_read_compressed_bytes <= c.result.startup_bytes);
  // The file's other frames are still at most a chunk each.
  const EntryAttr& e = index.attr(index.LookupPath("lib/big.so"));
  for (uint32_t i = e.first_chunk; i < e.first_chunk + e.chunk_count; ++i)
    CHECK(index.chunk(i).uncompressed_size <= 2 * kMiB);
}

}  // namespace
}  // namespace tide::format
