// A running container keeps reading a lazily mounted image, with every byte checked, while
// tide-snapshotter is killed with SIGKILL and started again, and while it is stopped with SIGTERM and
// replaced by another binary (an upgrade). The FUSE connections are held by tide-fuse-keeper
// processes in between and taken over by the new daemon (fuse/fuse_keepers.h), so no read may fail.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "test/e2e/pull/pull_checks.h"
#include "test/e2e/pull/pull_env.h"

namespace tide::testing {
namespace {

namespace fs = std::filesystem;

// Each pass hashes files of all three layers and compares with the first pass: a failed read (ERR)
// or different bytes (BAD) is logged with the pass number. /out/count is the passes so far.
constexpr const char* kReaderScript =
    "files='/bin/busybox /data/random.bin /data/hello.txt /data/third.txt'; "
    "ref=$(sha256sum $files) || echo 'ERR first' >> /out/log; i=0; "
    "while [ ! -e /out/stop ]; do "
    "  s=$(sha256sum $files) || echo \"ERR $i\" >> /out/log; "
    "  [ \"$s\" = \"$ref\" ] || echo \"BAD $i\" >> /out/log; "
    "  i=$((i+1)); echo $i > /out/count.tmp; mv /out/count.tmp /out/count; "
    "done; echo \"DONE $i\" >> /out/log";

int64_t Passes(const fs::path& out) {
  std::ifstream in(out / "count");
  int64_t n = 0;
  in >> n;
  return n;
}

// Waits for `more` passes beyond the count now; false after `limit`.
bool WaitForPasses(const fs::path& out, int64_t more, std::chrono::seconds limit) {
  const int64_t target = Passes(out) + more;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Passes(out) >= target) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// Drops the page cache of the layer files the reader hashes, in the FUSE mounts themselves, so its
// reads keep reaching tide instead of being answered from memory. While tide is down the open or
// the fadvise waits like the reader does.
class CacheDropper {
 public:
  explicit CacheDropper(fs::path snapshots) : snapshots_(std::move(snapshots)), thread_([this] { Run(); }) {}
  ~CacheDropper() {
    stop_ = true;
    thread_.join();
  }

 private:
  void Run() {
    while (!stop_) {
      for (const auto& dir : fs::directory_iterator(snapshots_)) {
        for (const char* file : {"bin/busybox", "data/random.bin", "data/hello.txt", "data/third.txt"}) {
          fs::path path = dir.path() / "fs" / file;
          int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
          if (fd < 0) continue;
          ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
          ::close(fd);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  fs::path snapshots_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Keepers of mounts under `dir` still running (their argument is the mountpoint).
int KeepersUnder(const fs::path& dir) {
  int n = 0;
  for (const auto& proc : fs::directory_iterator("/proc")) {
    std::ifstream in(proc.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (absl::StrContains(cmdline, "tide-fuse-keeper") && absl::StrContains(cmdline, dir.string())) ++n;
  }
  return n;
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST_CASE("LAZY: a container reading through kill -9 and an upgrade of tide-snapshotter sees no error",
          "[pull][lazy][restart]") {
  PullEnv env;
  env.PushTide("busybox-tide:v1");
  const std::string ref = env.Ref("busybox-tide:v1");
  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  REQUIRE(absl::StrContains(pulled.output, "(3 lazy, 0 applied, 0 present)"));

  const fs::path out = env.dir() / "out";
  fs::create_directories(out);
  auto run = env.Ctr({"run", "-d", "--snapshotter", "tide", "--mount",
                      absl::StrCat("type=bind,src=", out.string(), ",dst=/out,options=rbind:rw"), ref,
                      "restart-reader", "sh", "-c", kReaderScript});
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  {
    CacheDropper dropper(env.tide_root() / "snapshots");
    REQUIRE(WaitForPasses(out, 20, std::chrono::seconds(60)));

    env.KillAndRestartSnapshotter([] { std::this_thread::sleep_for(std::chrono::seconds(1)); });
    CHECK(WaitForPasses(out, 20, std::chrono::seconds(60)));

    // The upgrade: another binary (with its keeper beside it) takes over after a SIGTERM.
    const fs::path next = env.dir() / "next-release";
    fs::create_directories(next);
    const std::string build = std::getenv("TIDE_BINARY_DIR");
    for (const char* bin : {"tide-snapshotter", "tide-fuse-keeper"}) {
      fs::copy_file(fs::path(build) / "snapshotter" / bin, next / bin);
    }
    env.StopAndRestartSnapshotter((next / "tide-snapshotter").string());
    CHECK(WaitForPasses(out, 20, std::chrono::seconds(60)));
  }
  std::ofstream(out / "stop").put('\n');
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!absl::StrContains(ReadText(out / "log"), "DONE") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string log = ReadText(out / "log");
  const std::string tide_log = ReadText(env.tide_log_path());
  INFO("reader log:\n" << log);
  CHECK(absl::StrContains(log, "DONE"));
  CHECK_FALSE(absl::StrContains(log, "ERR"));
  CHECK_FALSE(absl::StrContains(log, "BAD"));
  // Both restarts served the kept connections; none was mounted anew under the running container.
  int taken_over = 0;
  for (size_t at = tide_log.find("taken over"); at != std::string::npos;
       at = tide_log.find("taken over", at + 1)) {
    ++taken_over;
  }
  CHECK(taken_over == 6);  // 3 layers, 2 restarts
  WARN("reader passes: " << Passes(out));
  CHECK(KeepersUnder(env.dir()) == 3);

  // The shell writes DONE just before it exits: delete its task once it has.
  for (int i = 0; i < 100 && env.Ctr({"tasks", "delete", "restart-reader"}).exit_code != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(env.Ctr({"containers", "delete", "restart-reader"}).exit_code == 0);
  // containerd redials the proxy snapshotter with a backoff after a restart; its GC's calls to tide
  // need the connection back.
  for (int i = 0; i < 60 && env.Ctr({"snapshots", "--snapshotter", "tide", "usage"}).exit_code != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  CheckRemovedByGc(env, ref);
  // Each keeper ends with its connection: unmounting the layers leaves none behind.
  for (int i = 0; i < 100 && KeepersUnder(env.dir()) > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(KeepersUnder(env.dir()) == 0);
}

}  // namespace
}  // namespace tide::testing
