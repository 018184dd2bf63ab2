#include "layer/access_recorder.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <thread>

#include "test/support/temp_dir.h"

namespace tide::layer {
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

TEST_CASE("access records of different recorders merge into arrival order by seq") {
  AccessRecorder lower;
  AccessRecorder upper;
  upper.Record(1, 0, 10);   // upper first
  lower.Record(2, 0, 10);   // then lower
  upper.Record(1, 10, 10);  // continues upper's first record: keeps its seq
  upper.Record(3, 0, 10);
  lower.Record(4, 0, 10);
  auto u = upper.Snapshot();
  auto l = lower.Snapshot();
  REQUIRE(u.size() == 2);
  REQUIRE(l.size() == 2);
  CHECK(u[0].seq < l[0].seq);
  CHECK(l[0].seq < u[1].seq);
  CHECK(u[1].seq < l[1].seq);
}

TEST_CASE("access record seqs are unique and ordered per recorder under concurrent recording") {
  AccessRecorder a;
  AccessRecorder b;
  constexpr uint32_t kReads = 2000;
  auto work = [](AccessRecorder& r, uint32_t base) {
    // Distinct entries so nothing coalesces.
    for (uint32_t i = 0; i < kReads; ++i) r.Record(base + i, 0, 1);
  };
  std::thread t1(work, std::ref(a), 0);
  std::thread t2(work, std::ref(b), 0);
  std::thread t3(work, std::ref(a), kReads);
  t1.join();
  t2.join();
  t3.join();
  auto sa = a.Snapshot();
  auto sb = b.Snapshot();
  REQUIRE(sa.size() == 2 * kReads);
  REQUIRE(sb.size() == kReads);
  auto by_seq = [](const AccessRecord& x, const AccessRecord& y) { return x.seq < y.seq; };
  CHECK(std::is_sorted(sa.begin(), sa.end(), by_seq));
  CHECK(std::is_sorted(sb.begin(), sb.end(), by_seq));
  std::vector<uint64_t> all;
  for (const auto& r : sa) all.push_back(r.seq);
  for (const auto& r : sb) all.push_back(r.seq);
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
}

}  // namespace
}  // namespace tide::layer
