#include "fuse/access_recorder.h"

#include <catch2/catch.hpp>

#include "test/support/temp_dir.h"

namespace tide::fuse {
namespace {

TEST_CASE("access recorder keeps order and coalesces sequential reads of one file") {
  AccessRecorder r;
  r.Record(5, 0, 4096);
  r.Record(5, 4096, 4096);
  r.Record(7, 100, 10);
  r.Record(5, 0, 10);
  auto s = r.Snapshot();
  REQUIRE(s.size() == 3);
  CHECK(s[0].entry_id == 5);
  CHECK(s[0].length == 8192);
  CHECK(s[1].entry_id == 7);
  CHECK(s[2].offset == 0);
  testing::TempDir dir;
  REQUIRE(r.WriteTsv(dir / "trace.tsv", [](uint32_t id) { return "/f" + std::to_string(id); }).ok());
  CHECK(testing::ReadFile(dir / "trace.tsv") == "/f5\t0\t8192\n/f7\t100\t10\n/f5\t0\t10\n");
}

}  // namespace
}  // namespace tide::fuse
