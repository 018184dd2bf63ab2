#include "format/layer_index.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "test/unit/format/format_test_util.h"
#include "test/unit/format/synthetic_tar.h"

namespace tide::format {
namespace {

using testing::SyntheticTar;

TEST_CASE("index tree: root, implicit parents, sorted children, lookups") {
  std::string tar = SyntheticTar()
                        .File("b/z", "z")
                        .File("b/a", "a")
                        .Dir("b/m")
                        .File("a/deep/er/file", "f")
                        .Dir("b")  // explicit entry after its children
                        .File("c", "c")
                        .Finish();
  testing::Converted conv = testing::ConvertTar(tar);
  LayerIndex index = testing::LoadIndex(conv);
  CHECK(index.tar_entry_count() == 6);
  // root + 6 entries + synthesized a, a/deep, a/deep/er
  CHECK(index.entry_count() == 10);
  CHECK(index.attr(kRootEntry).type == EntryType::kDirectory);
  CHECK(index.attr(kRootEntry).synthesized);
  std::vector<std::string> root_names;
  for (EntryId id : index.children(kRootEntry)) root_names.emplace_back(index.name(id));
  CHECK(root_names == std::vector<std::string>{"a", "b", "c"});
  EntryId b = index.Lookup(kRootEntry, "b");
  REQUIRE(b == 5);  // tar entry 4 -> id 5: the explicit entry, not a synthesized one
  CHECK_FALSE(index.attr(b).synthesized);
  std::vector<std::string> b_names;
  for (EntryId id : index.children(b)) b_names.emplace_back(index.name(id));
  CHECK(b_names == std::vector<std::string>{"a", "m", "z"});
  CHECK(index.attr(b).nlink == 3);  // ".", its name, and m's ".."
  EntryId file = index.LookupPath("./a/deep/er/file");
  REQUIRE(file == 4);
  CHECK(index.path(file) == "a/deep/er/file");
  CHECK(index.name(file) == "file");
  EntryId er = index.parent(file);
  CHECK(index.path(er) == "a/deep/er");
  CHECK(index.attr(er).synthesized);
  CHECK(S_ISDIR(index.attr(er).mode));
  CHECK(index.parent(index.parent(er)) == index.Lookup(kRootEntry, "a"));
  CHECK(index.Lookup(b, "nope") == kNoEntry);
  CHECK(index.Lookup(file, "x") == kNoEntry);  // not a directory
  CHECK(index.LookupPath("a/deep/missing") == kNoEntry);
  CHECK(index.MemoryUsage() > 0);
}

TEST_CASE("ChunksFor returns exactly the chunks covering a range") {
  LayerWriterOptions options;
  options.chunk_size = 4096;
  options.small_file_threshold = 0;
  std::string content(4096 * 5 + 100, 'q');
  testing::Converted conv = testing::ConvertTar(SyntheticTar().File("f", content).Finish(), options);
  LayerIndex index = testing::LoadIndex(conv);
  EntryId f = index.LookupPath("f");
  CHECK(index.attr(f).chunk_count == 6);
  ChunkRange all = index.ChunksFor(f, 0, content.size());
  CHECK(all.first == index.attr(f).first_chunk);
  CHECK(all.count == 6);
  ChunkRange one = index.ChunksFor(f, 4096, 4096);
  CHECK(one.first == index.attr(f).first_chunk + 1);
  CHECK(one.count == 1);
  ChunkRange two = index.ChunksFor(f, 4095, 2);
  CHECK(two.first == index.attr(f).first_chunk);
  CHECK(two.count == 2);
  CHECK(index.ChunksFor(f, content.size(), 10).count == 0);
  CHECK(index.ChunksFor(f, content.size() - 1, 1000).count == 1);
  CHECK(index.ChunksFor(kRootEntry, 0, 10).count == 0);
}

}  // namespace
}  // namespace tide::format
