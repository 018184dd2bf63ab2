// A running container keeps reading a lazily mounted image, with every byte checked, while
// tide-snapshotter is killed with SIGKILL and started again, and while it is stopped with SIGTERM and
// replaced by another binary (an upgrade). The FUSE connections are held by tide-fuse-keeper
// processes in between and taken over by the new daemon (fuse/fuse_keepers.h), so no read may fail.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "test/e2e/pull/cri_client.h"
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

// Keepers of mounts under `dir` still running (their argument is the mountpoint): their pids.
std::vector<int> KeepersUnder(const fs::path& dir) {
  std::vector<int> pids;
  for (const auto& proc : fs::directory_iterator("/proc")) {
    int pid = 0;
    if (!absl::SimpleAtoi(proc.path().filename().string(), &pid)) continue;
    std::ifstream in(proc.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (absl::StrContains(cmdline, "tide-fuse-keeper") && absl::StrContains(cmdline, dir.string()))
      pids.push_back(pid);
  }
  return pids;
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Aborts the FUSE connections of the env's layer mounts. A daemon that failed to take a kept
// connection back leaves its readers (the container's and CacheDropper's) blocked for good; this
// turns that hang into read errors the test reports. MNT_FORCE aborts a mount's connection before
// the kernel finds it busy (no fusectl needed); a connection whose mount is already detached ends
// when the last process holding its /dev/fuse fd does: the env's keepers and its daemon, all
// started by this test.
// The mountinfo fields of the env's FUSE layer mounts.
std::vector<std::vector<std::string>> FuseMountsUnder(PullEnv& env) {
  std::vector<std::vector<std::string>> mounts;
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (std::string line; std::getline(mountinfo, line);) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() > 4 && absl::StartsWith(fields[4], env.dir().string()) &&
        absl::StrContains(line, " - fuse.")) {
      mounts.push_back(std::move(fields));
    }
  }
  return mounts;
}

void AbortFuseUnder(PullEnv& env) {
  for (const std::vector<std::string>& fields : FuseMountsUnder(env)) ::umount2(fields[4].c_str(), MNT_FORCE);
  for (int pid : KeepersUnder(env.dir())) ::kill(pid, SIGKILL);
  if (env.tide_pid() > 0) ::kill(env.tide_pid(), SIGKILL);
}

// Where the reader runs: `ctr` in containerd's default namespace after `tidectl pull`, or in k8s.io
// after a CRI pull (Kubernetes), whose labels carry only the layers' digests.
struct ReaderImage {
  std::string ref;
  bool cri = false;
};

std::vector<std::string> InNamespace(const ReaderImage& image, std::vector<std::string> args) {
  if (image.cri) args.insert(args.begin(), {"-n", "k8s.io"});
  return args;
}

// Pulls the image lazily (all 3 layers) and starts the reader container `name` on it; returns its /out.
fs::path StartReader(PullEnv& env, const ReaderImage& image, const std::string& name) {
  if (image.cri) {
    auto cri = CriImageClient::Connect(env.containerd().address());
    REQUIRE(cri.ok());
    REQUIRE((*cri)->PullImage(image.ref).ok());
    CheckRemoteSnapshots(env, FetchRegistryImage(env, image.ref), "k8s.io");
  } else {
    auto pulled = env.Pull(image.ref);
    INFO(pulled.output);
    REQUIRE(pulled.exit_code == 0);
    REQUIRE(absl::StrContains(pulled.output, "(3 lazy, 0 applied, 0 present)"));
  }
  fs::path out = env.dir() / "out";
  fs::create_directories(out);
  auto run =
      env.Ctr(InNamespace(image, {"run", "-d", "--snapshotter", "tide", "--mount",
                                  absl::StrCat("type=bind,src=", out.string(), ",dst=/out,options=rbind:rw"),
                                  image.ref, name, "sh", "-c", kReaderScript}));
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  return out;
}
fs::path StartReader(PullEnv& env, const std::string& ref, const std::string& name) {
  return StartReader(env, ReaderImage{.ref = ref}, name);
}

// Stops the reader, checks that none of its reads failed or differed, and deletes its container.
void StopReader(PullEnv& env, const fs::path& out, const std::string& name, const ReaderImage& image = {}) {
  std::ofstream(out / "stop").put('\n');
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!absl::StrContains(ReadText(out / "log"), "DONE") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string log = ReadText(out / "log");
  INFO("reader log:\n" << log);
  CHECK(absl::StrContains(log, "DONE"));
  CHECK_FALSE(absl::StrContains(log, "ERR"));
  CHECK_FALSE(absl::StrContains(log, "BAD"));
  WARN("reader passes: " << Passes(out));
  // The shell writes DONE just before it exits: delete its task once it has.
  for (int i = 0; i < 100 && env.Ctr(InNamespace(image, {"tasks", "delete", name})).exit_code != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(env.Ctr(InNamespace(image, {"containers", "delete", name})).exit_code == 0);
}

TEST_CASE("LAZY: a container reading through kill -9 and an upgrade of tide-snapshotter sees no error",
          "[pull][lazy][restart]") {
  PullEnv env;
  env.PushTide("busybox-tide:v1");
  const std::string ref = env.Ref("busybox-tide:v1");
  const fs::path out = StartReader(env, ref, "restart-reader");
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
  const std::string tide_log = ReadText(env.tide_log_path());
  // Both restarts served the kept connections; none was mounted anew under the running container.
  CHECK(CountOf(tide_log, "taken over") == 6);  // 3 layers, 2 restarts
  CHECK(KeepersUnder(env.dir()).size() == 3);
  StopReader(env, out, "restart-reader");

  // The last daemon adopted the three layers while the reader ran. Once it stopped, each adopted mount
  // widened its read-ahead window as a fresh mount does (docs/prefetch.md).
  const auto widened_by_last = [&] {
    const std::string log = ReadText(env.tide_log_path());
    size_t at = 0;
    for (int i = 0; i < 4 && at != std::string::npos; ++i) at = log.find("taken over", i == 0 ? 0 : at + 1);
    return at == std::string::npos ? 0 : CountOf(log.substr(at), "kernel read-ahead widened");
  };
  for (int i = 0; i < 100 && widened_by_last() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(widened_by_last() == 3);
  const std::vector<std::vector<std::string>> layers = FuseMountsUnder(env);
  CHECK(layers.size() == 3);
  for (const std::vector<std::string>& fields : layers) {  // field 2: the mount's device, the bdi's name
    std::string kb = ReadText(fs::path("/sys/class/bdi") / fields[2] / "read_ahead_kb");
    CHECK(absl::StripAsciiWhitespace(kb) == "1024");
  }

  // containerd's GC calls tide: it needs the connection back after the restarts.
  env.WaitForContainerdToReachTide();
  CheckRemovedByGc(env, ref);
  // Each keeper ends with its connection: unmounting the layers leaves none behind.
  for (int i = 0; i < 100 && !KeepersUnder(env.dir()).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(KeepersUnder(env.dir()).empty());
}

// Keeps `ref`'s reader running while tide-snapshotter is killed with SIGKILL and started again with the
// registry stopped: Restore must take every layer back from what its snapshot kept and the chunk cache.
void CheckReadsThroughRestartWithoutRegistry(PullEnv& env, const ReaderImage& image,
                                             const std::string& name) {
  const fs::path out = StartReader(env, image, name);
  {
    CacheDropper dropper(env.tide_root() / "snapshots");
    // The first passes fetch every chunk the reader needs; from then on the cache has them.
    REQUIRE(WaitForPasses(out, 20, std::chrono::seconds(60)));
    env.KillAndRestartSnapshotter([&] { env.registry().Stop(); });
    const bool resumed = WaitForPasses(out, 20, std::chrono::seconds(60));
    if (!resumed) AbortFuseUnder(env);
    CHECK(resumed);
  }
  const std::string tide_log = ReadText(env.tide_log_path());
  INFO(tide_log);
  CHECK(CountOf(tide_log, "taken over") == 3);
  CHECK(CountOf(tide_log, "remote snapshot restored") == 3);
  CHECK(CountOf(tide_log, "remote snapshot not restored") == 0);
  StopReader(env, out, name, image);
}

// A gzip layer's side index is found through the registry at mount; the restarted daemon takes it,
// and the diff_id, from what the snapshot kept, so a registry outage at restart does not leave the
// running container's reads hanging.
TEST_CASE(
    "GZIP INDEX: a container reading through kill -9 of tide-snapshotter, with the registry down, sees no "
    "error",
    "[pull][gzip_index][restart]") {
  PullEnv env;
  CheckReadsThroughRestartWithoutRegistry(env, {.ref = PushGzipIndexed(env, "busybox-gz:v1")},
                                          "gz-restart-reader");
}

// An eStargz or zstd:chunked layer's TOC is read from the blob at mount and kept in the chunk cache;
// the restarted daemon builds the index from that copy, with the blob size its snapshot kept (no
// HEAD), so a registry outage at restart does not leave the running container's reads hanging.
TEST_CASE(
    "ESTARGZ: a container reading through kill -9 of tide-snapshotter, with the registry down, sees no error",
    "[pull][estargz][restart]") {
  SECTION("eStargz") {
    PullEnv env;
    CheckReadsThroughRestartWithoutRegistry(env, {.ref = PushEstargz(env, "busybox-esgz:v1")},
                                            "esgz-restart-reader");
  }
  SECTION("zstd:chunked from containers/storage") {
    PullEnv env;
    CheckReadsThroughRestartWithoutRegistry(
        env, {.ref = PushContainersStorageZstdChunked(env, "busybox-cszstd:v1")}, "cszstd-restart-reader");
  }
  SECTION("zstd:chunked from containers/storage, pulled through CRI") {
    PullEnvOptions options;
    options.enable_cri = true;
    PullEnv env(options);
    const ReaderImage image{.ref = PushContainersStorageZstdChunked(env, "busybox-cszstd:v1"), .cri = true};
    CheckReadsThroughRestartWithoutRegistry(env, image, "cszstd-cri-restart-reader");
  }
  SECTION("zstd:chunked") {
    PullEnv env;
    CheckReadsThroughRestartWithoutRegistry(
        env, {.ref = PushEstargz(env, "busybox-zstdc:v1", "--zstdchunked")}, "zstdc-restart-reader");
  }
}

}  // namespace
}  // namespace tide::testing
