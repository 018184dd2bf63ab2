// tide-snapshotter as a process: socket permissions, clean shutdown, and crash consistency.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "containerd/services/snapshots/v1/snapshots.grpc.pb.h"
#include "test/support/free_port.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"
#include "test/unit/snapshotter/tide_snapshotter_process.h"

using namespace tide::testing;
namespace pb = containerd::services::snapshots::v1;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<pb::Snapshots::Stub> Connect(const std::string& socket) {
  return pb::Snapshots::NewStub(grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
}

grpc::Status Prepare(pb::Snapshots::Stub& stub, const std::string& key, const std::string& parent) {
  grpc::ClientContext ctx;
  pb::PrepareSnapshotRequest req;
  pb::PrepareSnapshotResponse resp;
  req.set_key(key);
  req.set_parent(parent);
  return stub.Prepare(&ctx, req, &resp);
}

grpc::Status Commit(pb::Snapshots::Stub& stub, const std::string& name, const std::string& key) {
  grpc::ClientContext ctx;
  pb::CommitSnapshotRequest req;
  google::protobuf::Empty resp;
  req.set_name(name);
  req.set_key(key);
  return stub.Commit(&ctx, req, &resp);
}

grpc::Status Remove(pb::Snapshots::Stub& stub, const std::string& key) {
  grpc::ClientContext ctx;
  pb::RemoveSnapshotRequest req;
  google::protobuf::Empty resp;
  req.set_key(key);
  return stub.Remove(&ctx, req, &resp);
}

std::vector<pb::Info> ListAll(pb::Snapshots::Stub& stub) {
  grpc::ClientContext ctx;
  pb::ListSnapshotsRequest req;
  auto reader = stub.List(&ctx, req);
  pb::ListSnapshotsResponse resp;
  std::vector<pb::Info> all;
  while (reader->Read(&resp)) {
    CHECK(resp.info_size() <= 100);
    for (const auto& i : resp.info()) all.push_back(i);
  }
  REQUIRE(reader->Finish().ok());
  return all;
}

size_t CountDirs(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("daemon: socket is 0600, SIGTERM exits cleanly, List streams in batches of at most 100",
          "[snapshotter][integration]") {
  TempDir dir("tide-daemon");
  TideSnapshotterOptions options;
  options.root = dir / "root";
  options.socket = (dir / "run" / "tide.sock").string();
  auto tide = TideSnapshotterProcess::Start(options);
  REQUIRE(tide.ok());
  struct stat st;
  REQUIRE(stat(options.socket.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(S_ISSOCK(st.st_mode));

  auto stub = Connect(options.socket);
  REQUIRE(Prepare(*stub, "base", "").ok());
  REQUIRE(Commit(*stub, "base-c", "base").ok());
  for (int i = 0; i < 250; ++i) REQUIRE(Prepare(*stub, absl::StrCat("k", i), "base-c").ok());
  CHECK(ListAll(*stub).size() == 251);
  {
    grpc::ClientContext ctx;
    pb::ListSnapshotsRequest req;
    req.add_filters("name~=^k1");  // k1, k10-k19, k100-k199
    auto reader = stub->List(&ctx, req);
    pb::ListSnapshotsResponse resp;
    size_t n = 0;
    while (reader->Read(&resp)) n += resp.info_size();
    CHECK(reader->Finish().ok());
    CHECK(n == 111);
  }
  {
    grpc::ClientContext ctx;
    pb::ListSnapshotsRequest req;
    req.add_filters("name~=(");
    auto reader = stub->List(&ctx, req);
    pb::ListSnapshotsResponse resp;
    while (reader->Read(&resp)) {
    }
    CHECK(reader->Finish().error_code() == grpc::INVALID_ARGUMENT);
  }
  // A second daemon neither takes over the live socket nor the state directory.
  auto same_socket = RunCommand(
      {TideSnapshotterBinary(), "--root", (dir / "other-root").string(), "--address", options.socket});
  CHECK(same_socket.exit_code == 1);
  CHECK(same_socket.output.find("another process is serving") != std::string::npos);
  auto same_root = RunCommand(
      {TideSnapshotterBinary(), "--root", options.root.string(), "--address", (dir / "other.sock").string()});
  CHECK(same_root.exit_code == 1);
  CHECK(same_root.output.find("in use by another tide-snapshotter") != std::string::npos);
  CHECK(ListAll(*stub).size() == 251);

  CHECK((*tide)->Stop() == 0);
  CHECK_FALSE(fs::exists(options.socket));
  CHECK(ReadFile((*tide)->log_path()).find("level=info msg=\"stopped\"") != std::string::npos);
}

TEST_CASE("daemon: kill -9 in the middle of a stream of changes leaves a consistent store",
          "[snapshotter][integration]") {
  TempDir dir("tide-crash");
  TideSnapshotterOptions options;
  options.root = dir / "root";
  options.socket = (dir / "tide.sock").string();
  for (int round = 0; round < 3; ++round) {
    auto tide = TideSnapshotterProcess::Start(options);
    REQUIRE(tide.ok());
    auto stub = Connect(options.socket);
    std::string base = absl::StrCat("base", round);
    REQUIRE(Prepare(*stub, base, "").ok());
    REQUIRE(Commit(*stub, base + "-c", base).ok());
    std::atomic<bool> stop{false};
    std::atomic<int> done{0};
    std::thread writer([&] {
      for (int i = 0; !stop; ++i) {
        std::string key = absl::StrCat("r", round, "-", i);
        if (!Prepare(*stub, key, base + "-c").ok()) break;
        if (!Commit(*stub, key + "-c", key).ok()) break;
        if (i % 2 == 0 && !Remove(*stub, key + "-c").ok()) break;
        ++done;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + 200 * round));
    (*tide)->Kill();
    stop = true;
    writer.join();
    INFO("operations before the crash: " << done.load());
    CHECK(done > 0);
    tide->reset();

    // After the restart every snapshot has exactly one directory and there are no others.
    tide = TideSnapshotterProcess::Start(options);
    REQUIRE(tide.ok());
    stub = Connect(options.socket);
    auto all = ListAll(*stub);
    CHECK(all.size() == CountDirs(options.root / "snapshots"));
    for (const auto& info : all) {
      if (info.kind() != pb::ACTIVE) continue;
      grpc::ClientContext ctx;
      pb::MountsRequest req;
      pb::MountsResponse resp;
      req.set_key(info.name());
      REQUIRE(stub->Mounts(&ctx, req, &resp).ok());
      for (const auto& option : resp.mounts(0).options()) {
        if (absl::StartsWith(option, "upperdir=")) CHECK(fs::is_directory(option.substr(9)));
        if (absl::StartsWith(option, "lowerdir=")) CHECK(fs::is_directory(option.substr(9)));
      }
    }
  }
}

TEST_CASE("daemon: bad configuration stops it with a message; flags override the file",
          "[snapshotter][integration]") {
  TempDir dir("tide-cli");
  WriteFile(dir / "bad.toml", "prefetch = \"eager\"\n");
  auto bad = RunCommand({TideSnapshotterBinary(), "--config", (dir / "bad.toml").string()});
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("prefetch") != std::string::npos);
  CHECK(bad.output.find("bad.toml") != std::string::npos);
  auto missing = RunCommand({TideSnapshotterBinary(), "--config", (dir / "none.toml").string()});
  CHECK(missing.exit_code == 2);
  CHECK(missing.output.find("none.toml") != std::string::npos);
  auto level = RunCommand({TideSnapshotterBinary(), "--log-level", "loud"});
  CHECK(level.exit_code == 2);
  CHECK(level.output.find("loud") != std::string::npos);

  // root/address from the file, overridden on the command line.
  WriteFile(dir / "good.toml", absl::StrCat("root = \"", (dir / "file-root").string(), "\"\naddress = \"",
                                            (dir / "file.sock").string(), "\"\nlog_level = \"error\"\n"));
  auto proc = Subprocess::Start({TideSnapshotterBinary(), "--config", (dir / "good.toml").string(), "--root",
                                 (dir / "flag-root").string(), "--log-level", "info"},
                                SubprocessOptions{.env = {}, .log_path = (dir / "log").string(), .cwd = ""});
  REQUIRE(proc.ok());
  REQUIRE(WaitForUnixSocket((dir / "file.sock").string(), std::chrono::seconds(20)));
  CHECK(fs::exists(dir / "flag-root" / "metadata.db"));
  CHECK_FALSE(fs::exists(dir / "file-root"));
  CHECK(proc->Stop(SIGINT) == 0);
  CHECK(ReadFile(dir / "log").find("signal=SIGINT") != std::string::npos);  // info from the flag, not error
}

TEST_CASE("daemon: a second daemon on a live root leaves its cache alone and exits with a clear error",
          "[snapshotter][integration]") {
  TempDir dir("tide-second");
  TideSnapshotterOptions options;
  options.root = dir / "root";
  options.socket = (dir / "tide.sock").string();
  auto tide = TideSnapshotterProcess::Start(options);
  REQUIRE(tide.ok());
  // A write of the live daemon in flight and a chunk it has cached. A second daemon that scanned the
  // cache would delete the first and, with a 1-byte limit, evict the second.
  fs::path cache = options.root / "cache";
  fs::path marker = cache / "tmp" / "in-flight-write";
  std::string hex(64, 'a');
  fs::path chunk = cache / "chunks" / hex.substr(0, 2) / hex;
  fs::create_directories(marker.parent_path());
  fs::create_directories(chunk.parent_path());
  WriteFile(marker, "half a chunk");
  WriteFile(chunk, "a cached chunk");
  WriteFile(dir / "second.toml", absl::StrCat("root = \"", options.root.string(), "\"\naddress = \"",
                                              (dir / "second.sock").string(), "\"\ncache_max_bytes = 1\n"));

  auto second = RunCommand({TideSnapshotterBinary(), "--config", (dir / "second.toml").string()});
  INFO(second.output);
  CHECK(second.exit_code == 1);
  CHECK(second.output.find("in use by another tide-snapshotter") != std::string::npos);
  CHECK(second.output.find(options.root.string()) != std::string::npos);
  CHECK(fs::exists(marker));
  CHECK(fs::exists(chunk));
  CHECK_FALSE(fs::exists(dir / "second.sock"));
  CHECK((*tide)->Stop() == 0);
}
