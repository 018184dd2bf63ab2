// Round trip of a real root-filesystem slice of this machine (/etc and python's dist-packages:
// thousands of small files, symlinks, odd permissions), archived by GNU tar with xattrs.

#include <catch2/catch.hpp>

#include "common/digest.h"
#include "format/blob_reader.h"
#include "format/layer_index.h"
#include "format/layer_writer.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"
#include "test/unit/format/format_test_util.h"

namespace tide::format {
namespace {

std::string ArchiveSystemTree(const testing::TempDir& dir) {
  auto r = testing::RunShell(
      "tar --xattrs --xattrs-include='*' --format=pax -C / -cf '" + (dir / "layer.tar").string() +
      "' etc usr/lib/python3/dist-packages 2>/dev/null; " + "test -s '" + (dir / "layer.tar").string() + "'");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return testing::ReadFile(dir / "layer.tar");
}

TEST_CASE("a real filesystem slice round-trips and every file is served from its chunks") {
  testing::TempDir dir("tide-format-real");
  const std::string tar = ArchiveSystemTree(dir);
  auto files = testing::FileContents(tar);
  REQUIRE(files.size() > 100);

  SECTION("default options: zstd -dc gives the tar back") {
    testing::Converted c = testing::ConvertTar(tar);
    CHECK(testing::ZstdCliDecompress(c.blob) == tar);
    CHECK(c.result.diff_id == Digest::Of(tar));
    LayerIndex index = testing::LoadIndex(c);
    for (const auto& [path, content] : files) {
      EntryId id = index.LookupPath(path);
      INFO(path);
      REQUIRE(id != kNoEntry);
      CHECK(index.attr(id).size == content.size());
    }
  }

  SECTION("small chunks with a startup set: every file reads back exactly") {
    LayerWriterOptions options;
    options.chunk_size = 64 << 10;
    options.small_file_threshold = 16 << 10;
    size_t n = 0;
    for (const auto& [path, content] : files) {
      if (n++ % 97 == 0) options.startup.push_back({path, {}});
    }
    testing::Converted c = testing::ConvertTar(tar, options);
    std::string out = testing::ZstdCliDecompress(c.blob);
    CHECK(Digest::Of(out) == c.result.diff_id);
    CHECK(testing::FileContents(out) == files);
    LayerIndex index = testing::LoadIndex(c);
    CHECK(!index.startup_chunks().empty());
    StringRangeReader reader(c.blob);
    for (const auto& [path, content] : files) {
      INFO(path);
      EntryId id = index.LookupPath(path);
      REQUIRE(id != kNoEntry);
      auto read = ReadFileRange(reader, index, id, 0, content.size());
      REQUIRE(read.ok());
      REQUIRE(*read == content);
    }
  }
}

}  // namespace
}  // namespace tide::format
