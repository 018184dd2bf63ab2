#include "fuse/fuse_keepers.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "test/support/temp_dir.h"

namespace tide::fuse {
namespace {

std::filesystem::path KeeperBinary() {
  return std::filesystem::path(std::getenv("TIDE_BINARY_DIR")) / "snapshotter" / "tide-fuse-keeper";
}

// A pipe stands in for /dev/fuse: the keeper only holds and polls its descriptor, and a pipe's read
// end reports POLLHUP once its writer is gone, as a FUSE device reports POLLERR once its connection
// ends.
TEST_CASE("A keeper holds a descriptor for the next process, and ends when it ends") {
  testing::TempDir dir;
  FuseKeepers keepers(dir / "keepers", KeeperBinary());
  const std::filesystem::path mountpoint = "/run/tide-test/snapshots/7/fs";
  CHECK(absl::IsNotFound(keepers.Reclaim(mountpoint).status()));

  int p[2];
  REQUIRE(pipe2(p, O_CLOEXEC) == 0);
  UniqueFd read_end(p[0]), write_end(p[1]);
  REQUIRE(keepers.Keep(mountpoint, read_end.get()).ok());
  read_end = UniqueFd();  // only the keeper holds it now

  // Taken back, it is the same open file: what is written into the pipe comes out of it.
  auto kept = keepers.Reclaim(mountpoint);
  INFO(kept.status().ToString());
  REQUIRE(kept.ok());
  REQUIRE(write(write_end.get(), "x", 1) == 1);
  char c = 0;
  CHECK(read(kept->get(), &c, 1) == 1);
  CHECK(c == 'x');
  CHECK(absl::IsNotFound(keepers.Reclaim("/run/tide-test/snapshots/8/fs").status()));

  // The keeper goes once the descriptor's other side is gone; its record then leads nowhere.
  *kept = UniqueFd();
  write_end = UniqueFd();
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = absl::IsNotFound(keepers.Reclaim(mountpoint).status());
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(gone);
}

TEST_CASE("A keeper record whose process is another one now is not trusted") {
  testing::TempDir dir;
  FuseKeepers keepers(dir.path(), KeeperBinary());
  const std::filesystem::path mountpoint = "/run/tide-test/snapshots/9/fs";
  int p[2];
  REQUIRE(pipe2(p, O_CLOEXEC) == 0);
  UniqueFd read_end(p[0]), write_end(p[1]);
  REQUIRE(keepers.Keep(mountpoint, read_end.get()).ok());
  // Point the record at this test process, as if the keeper died and its pid was reused: the start
  // time gives it away.
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    std::ofstream(e.path()) << getpid() << " " << ProcessStartTime(getpid()) + 1 << "\n"
                            << mountpoint.string() << "\n";
  }
  CHECK(absl::IsNotFound(keepers.Reclaim(mountpoint).status()));
}

}  // namespace
}  // namespace tide::fuse
