// An index is bounded by the memory it takes to load, not only by its decompressed size: a few KB of
// zstd can describe millions of empty entries (an "index bomb").

#include <catch2/catch.hpp>
#include <string>

#include "format/index_limits.h"
#include "format/index_memory_cost.h"
#include "format/layer_index.h"
#include "test/unit/format/format_test_util.h"
#include "tide/format/v1/layer_index.pb.h"

namespace tide::format {
namespace {

using Proto = tide::format::v1::LayerIndex;

// `count` directory entries with the given paths (all in one string), no chunks, no content.
Proto Directories(size_t count, const std::string& paths, uint32_t path_length) {
  Proto pb;
  pb.set_version(1);
  pb.set_paths(paths);
  for (size_t i = 0; i < count; ++i) {
    pb.add_path_lengths(path_length);
    pb.add_types(1);
    pb.add_modes(0755);
    pb.add_uids(0);
    pb.add_gids(0);
    pb.add_uname_ids(0);
    pb.add_gname_ids(0);
    pb.add_sizes(0);
    pb.add_data_offsets(0);
    pb.add_mtime_secs(0);
    pb.add_mtime_nsecs(0);
    pb.add_dev_majors(0);
    pb.add_dev_minors(0);
    pb.add_link_lengths(0);
    pb.add_xattr_counts(0);
  }
  return pb;
}

TEST_CASE("an index bomb is refused before it is loaded") {
  constexpr size_t kEntries = 3'000'000;
  const std::string frame = testing::FrameIndex(Directories(kEntries, "", 0));
  INFO("bomb frame: " << frame.size() << " bytes");
  CHECK(frame.size() < 64 * 1024);

  auto index = LayerIndex::ParseUnverified(frame);
  REQUIRE_FALSE(index.ok());
  CHECK(index.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK_THAT(std::string(index.status().message()), Catch::Contains("max_index_memory"));
}

TEST_CASE("the memory estimate grows with the entry count") {
  Proto small = Directories(1000, "", 0);
  Proto large = Directories(100000, "", 0);
  auto a = EstimateIndexMemory(small.SerializeAsString());
  auto b = EstimateIndexMemory(large.SerializeAsString());
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a >= 1000 * kIndexEntryCost);
  CHECK(*b >= 100000 * kIndexEntryCost);
  CHECK(*b > 50 * *a);
}

TEST_CASE("the per-layer limit is the configured one") {
  const Proto pb = Directories(1000, "", 0);
  const std::string frame = testing::FrameIndex(pb);
  auto needed = EstimateIndexMemory(pb.SerializeAsString());
  REQUIRE(needed.ok());
  CHECK(LayerIndex::ParseUnverified(frame, IndexLimits{*needed + (1 << 20)}).ok());
  auto refused = LayerIndex::ParseUnverified(frame, IndexLimits{*needed - 1});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kResourceExhausted);
}

TEST_CASE("implied parent directories count against the limit") {
  // One entry 2000 levels deep implies 1999 directories the index never lists.
  std::string path;
  for (int i = 0; i < 2000; ++i) path += i == 0 ? "d" : "/d";
  const Proto pb = Directories(1, path, static_cast<uint32_t>(path.size()));
  const std::string frame = testing::FrameIndex(pb);
  auto needed = EstimateIndexMemory(pb.SerializeAsString());
  REQUIRE(needed.ok());
  CHECK(LayerIndex::ParseUnverified(frame, IndexLimits{*needed + 3000 * kIndexEntryCost}).ok());
  auto refused = LayerIndex::ParseUnverified(frame, IndexLimits{*needed + 100 * kIndexEntryCost});
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(std::string(refused.status().message()), Catch::Contains("implies more directories"));
}

TEST_CASE("a malformed protobuf is refused by the estimate, not parsed") {
  CHECK_FALSE(EstimateIndexMemory(std::string("\x5a\xff\xff\xff\x0f", 5)).ok());  // length past the end
  CHECK_FALSE(EstimateIndexMemory(std::string("\x0b", 1)).ok());                  // a group
}

}  // namespace
}  // namespace tide::format
