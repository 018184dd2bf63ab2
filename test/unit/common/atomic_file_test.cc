#include "common/atomic_file.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <vector>

#include "test/support/temp_dir.h"

using tide::testing::ReadFile;
using tide::testing::TempDir;
using tide::testing::WriteFile;
namespace fs = std::filesystem;

namespace {

// What this binary's fsync saw: a directory or not, which inode, and whether the file a test
// watches was in place at that moment.
struct SyncRecord {
  bool directory;
  ino_t inode;
  bool watched_present;
};
std::vector<SyncRecord> g_syncs;
fs::path g_watched;
bool g_fail_directories = false;
bool g_fail_files = false;

ino_t InodeOf(const fs::path& p) {
  struct stat st;
  REQUIRE(stat(p.c_str(), &st) == 0);
  return st.st_ino;
}

size_t TempFilesIn(const fs::path& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    n += e.path().filename().string().find(".tmp-") != std::string::npos;
  return n;
}

struct SyncSpy {
  explicit SyncSpy(fs::path watched) {
    g_syncs.clear();
    g_watched = std::move(watched);
  }
  ~SyncSpy() {
    g_watched.clear();
    g_fail_directories = g_fail_files = false;
  }
};

}  // namespace

// Stands in front of libc's fsync for this test binary (the static tide_common links against it):
// it records what was synced and can fail a sync as a disk error would, then forwards to libc.
extern "C" int fsync(int fd) {
  static auto* real = reinterpret_cast<int (*)(int)>(dlsym(RTLD_NEXT, "fsync"));
  struct stat st;
  if (!g_watched.empty() && fstat(fd, &st) == 0) {
    bool directory = S_ISDIR(st.st_mode);
    std::error_code ec;
    g_syncs.push_back({directory, st.st_ino, fs::exists(g_watched, ec)});
    if ((directory && g_fail_directories) || (!directory && g_fail_files)) {
      errno = EIO;
      return -1;
    }
  }
  return real(fd);
}

TEST_CASE("WriteFileAtomically syncs the directory after the rename", "[atomic_file]") {
  TempDir dir("tide-atomic");
  fs::path target = dir / "index.json";
  SyncSpy spy(target);
  REQUIRE(tide::WriteFileAtomically(target, "new content").ok());
  CHECK(ReadFile(target) == "new content");
  CHECK((fs::status(target).permissions() & fs::perms::all) == static_cast<fs::perms>(0644));
  CHECK(TempFilesIn(dir.path()) == 0);
  bool dir_synced_after_rename = false;
  for (const SyncRecord& s : g_syncs) {
    dir_synced_after_rename |= s.directory && s.inode == InodeOf(dir.path()) && s.watched_present;
  }
  CHECK(dir_synced_after_rename);
  REQUIRE_FALSE(g_syncs.empty());
  CHECK_FALSE(g_syncs.front().directory);  // the file's content first
}

TEST_CASE("WriteFileAtomically reports a failed directory sync", "[atomic_file]") {
  TempDir dir("tide-atomic");
  fs::path target = dir / "profile";
  SyncSpy spy(target);
  g_fail_directories = true;
  absl::Status s = tide::WriteFileAtomically(target, "data");
  INFO(s.ToString());
  CHECK_FALSE(s.ok());
  CHECK(std::string(s.message()).find("fsync directory " + dir.path().string()) != std::string::npos);
  CHECK(TempFilesIn(dir.path()) == 0);
}

TEST_CASE("a failed WriteFileAtomically keeps the old content and leaves no temp file", "[atomic_file]") {
  TempDir dir("tide-atomic");
  fs::path target = dir / "index.json";
  WriteFile(target, "old content");
  {
    SyncSpy spy(target);
    g_fail_files = true;
    absl::Status s = tide::WriteFileAtomically(target, "new content");
    CHECK_FALSE(s.ok());
    CHECK(std::string(s.message()).find(dir.path().string()) != std::string::npos);
  }
  CHECK(ReadFile(target) == "old content");
  CHECK(TempFilesIn(dir.path()) == 0);

  // A directory where the file should go: the rename fails.
  WriteFile(dir / "occupied" / "child", "x");
  absl::Status occupied = tide::WriteFileAtomically(dir / "occupied", "data");
  CHECK_FALSE(occupied.ok());
  CHECK(ReadFile(dir / "occupied" / "child") == "x");
  CHECK(TempFilesIn(dir.path()) == 0);

  absl::Status missing = tide::WriteFileAtomically(dir / "no-such-dir" / "file", "data");
  CHECK_FALSE(missing.ok());
  CHECK(std::string(missing.message()).find("no-such-dir") != std::string::npos);
}
