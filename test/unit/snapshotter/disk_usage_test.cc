#include "snapshotter/disk_usage.h"

#include <unistd.h>

#include <catch2/catch.hpp>

#include "test/support/temp_dir.h"

TEST_CASE("disk usage: blocks and inodes like containerd's fs.DiskUsage, hard links once", "[snapshotter]") {
  tide::testing::TempDir dir("tide-du");
  auto empty = tide::snapshotter::DiskUsage(dir.path());
  REQUIRE(empty.ok());
  CHECK(empty->inodes == 1);  // the root itself
  tide::testing::WriteFile(dir / "a" / "big", std::string(1 << 20, 'x'));
  REQUIRE(link((dir / "a" / "big").c_str(), (dir / "a" / "link").c_str()) == 0);
  REQUIRE(symlink("big", (dir / "a" / "sym").c_str()) == 0);
  auto usage = tide::snapshotter::DiskUsage(dir.path());
  REQUIRE(usage.ok());
  CHECK(usage->inodes == 4);  // root, a, big (= link), sym
  CHECK(usage->size >= (1 << 20));
  CHECK(usage->size < 2 * (1 << 20));  // the hard link is not counted twice
  CHECK_FALSE(tide::snapshotter::DiskUsage(dir / "missing").ok());
}
