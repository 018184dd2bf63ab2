// tide-snapshotter as containerd's proxy snapshotter, end to end with a private containerd.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/sha256.h"
#include "containerd/services/snapshots/v1/snapshots.grpc.pb.h"
#include "test/support/containerd_process.h"
#include "test/support/registry_process.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"
#include "test/unit/snapshotter/tide_snapshotter_process.h"

using namespace tide::testing;
namespace fs = std::filesystem;

namespace {

struct Image {
  fs::path layout;
  std::string config_digest;
  std::vector<std::string> layer_digests;
  std::vector<std::string> diff_ids;
  std::vector<std::string> chain_ids;
};

fs::path Blob(const fs::path& layout, const std::string& digest) {
  return layout / "blobs" / "sha256" / digest.substr(7);
}

// ChainID(L1) = DiffID(L1); ChainID(L1..n) = sha256(ChainID(L1..n-1) + " " + DiffID(Ln)).
std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> chain;
  for (const auto& diff_id : diff_ids) {
    chain.push_back(
        chain.empty() ? diff_id : "sha256:" + tide::HexEncode(tide::Sha256Of(chain.back() + " " + diff_id)));
  }
  return chain;
}

Image BuildImage(const fs::path& layout) {
  auto build =
      RunCommand({std::string(std::getenv("TIDE_SOURCE_DIR")) + "/test/support/images/build-busybox-image.sh",
                  layout, "v1"});
  INFO(build.output);
  REQUIRE(build.exit_code == 0);
  Image image;
  image.layout = layout;
  auto index = nlohmann::json::parse(ReadFile(layout / "index.json"));
  std::string manifest_digest = index["manifests"][0]["digest"];
  auto manifest = nlohmann::json::parse(ReadFile(Blob(layout, manifest_digest)));
  image.config_digest = manifest["config"]["digest"];
  for (const auto& layer : manifest["layers"]) image.layer_digests.push_back(layer["digest"]);
  auto config = nlohmann::json::parse(ReadFile(Blob(layout, image.config_digest)));
  image.diff_ids = config["rootfs"]["diff_ids"].get<std::vector<std::string>>();
  image.chain_ids = ChainIds(image.diff_ids);
  REQUIRE(image.layer_digests.size() == 3);
  return image;
}

int MountsUnder(const fs::path& root) {
  int n = 0;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.find(" " + root.string() + "/") != std::string::npos) ++n;
  }
  return n;
}

bool WaitFor(const std::function<bool()>& done, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return true;
}

// containerd's gRPC connection to a restarted proxy backs off for up to 3 s; retry through that.
CommandResult RunContainer(const ContainerdProcess& c, const std::string& ref, const std::string& id,
                           const std::vector<std::string>& cmd = {}) {
  std::vector<std::string> args = {"run", "--rm", "--snapshotter", "tide", ref, id};
  args.insert(args.end(), cmd.begin(), cmd.end());
  CommandResult result;
  for (int attempt = 0; attempt < 10; ++attempt) {
    result = c.Ctr(args);
    if (result.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return result;
}

std::string TideRootState(const ContainerdProcess& c, const fs::path& tide_root) {
  return absl::StrCat("ctr snapshots:\n", c.Ctr({"snapshots", "--snapshotter", "tide", "ls"}).output,
                      "\ntide dirs: ", RunCommand({"ls", (tide_root / "snapshots").string()}).output);
}

}  // namespace

TEST_CASE("ordinary image: ctr pull and run on tide, kill -9 and restart, removal and GC",
          "[snapshotter][e2e]") {
  TempDir dir("tide-e2e");
  Image image = BuildImage(dir / "layout");
  auto registry = RegistryProcess::Start();
  REQUIRE(registry.ok());
  std::string ref = (*registry)->host() + "/test/busybox:v1";
  auto push = RunCommand({"skopeo", "copy", "--dest-tls-verify=false", "oci:" + image.layout.string() + ":v1",
                          "docker://" + ref});
  INFO(push.output);
  REQUIRE(push.exit_code == 0);

  TideSnapshotterOptions options;
  options.root = dir / "tide-root";
  options.socket = (dir / "tide.sock").string();
  auto tide = TideSnapshotterProcess::Start(options);
  REQUIRE(tide.ok());
  ContainerdOptions containerd_options;
  containerd_options.proxy_snapshotters = {{"tide", options.socket}};
  auto containerd = ContainerdProcess::Start(containerd_options);
  REQUIRE(containerd.ok());
  const ContainerdProcess& c = **containerd;

  auto pull = c.Ctr({"images", "pull", "--plain-http", "--snapshotter", "tide", ref});
  INFO(pull.output);
  REQUIRE(pull.exit_code == 0);
  auto run = RunContainer(c, ref, "first");
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  CHECK(run.output.find("hello from tide") != std::string::npos);
  // The whiteout in layer 3 hides removed.txt; the three layers stack in order.
  auto ls = RunContainer(c, ref, "ls", {"ls", "/data"});
  CHECK(ls.output.find("third.txt") != std::string::npos);
  CHECK(ls.output.find("removed.txt") == std::string::npos);
  auto snapshots = c.Ctr({"snapshots", "--snapshotter", "tide", "ls"});
  for (const auto& chain : image.chain_ids) CHECK(snapshots.output.find(chain) != std::string::npos);

  // A crash must not lose committed layers: kill -9, start again on the same root, run again.
  (*tide)->Kill();
  tide->reset();
  tide = TideSnapshotterProcess::Start(options);
  REQUIRE(tide.ok());
  auto rerun = RunContainer(c, ref, "after-restart");
  INFO(rerun.output);
  CHECK(rerun.exit_code == 0);
  CHECK(rerun.output.find("hello from tide") != std::string::npos);

  auto rm = c.Ctr({"images", "rm", "--sync", ref});
  INFO(rm.output);
  REQUIRE(rm.exit_code == 0);
  bool collected =
      WaitFor([&] { return fs::is_empty(options.root / "snapshots"); }, std::chrono::seconds(20));
  INFO(TideRootState(c, options.root));
  CHECK(collected);
  CHECK(c.Ctr({"snapshots", "--snapshotter", "tide", "ls"}).output.find("sha256:") == std::string::npos);
  CHECK(MountsUnder(options.root) == 0);
}

namespace {

namespace pb = containerd::services::snapshots::v1;

// Extracts each layer into <layers>/<digest hex> with overlay-style whiteouts: the directories the
// bind mounter serves in place of FUSE mounts.
void ExtractLayers(const Image& image, const fs::path& layers) {
  for (size_t i = 0; i < image.layer_digests.size(); ++i) {
    const std::string& digest = image.layer_digests[i];
    fs::path out = layers / digest.substr(7);
    fs::create_directories(out);
    auto untar = RunShell(absl::StrCat(
        "tar -xf ", Blob(image.layout, digest).string(), " -C ", out.string(), " && cd ", out.string(),
        " && find . -name '.wh.*' | while read -r w; do "
        "rm \"$w\"; mknod \"$(dirname \"$w\")/$(basename \"$w\" | cut -c5-)\" c 0 0; done"));
    INFO(untar.output);
    REQUIRE(untar.exit_code == 0);
    // The diff_id a tide index would carry, which the bind mounter reports.
    WriteFile(layers / (digest.substr(7) + ".diff_id"), image.diff_ids[i] + "\n");
  }
}

}  // namespace

TEST_CASE("remote layers: Prepare answers ALREADY_EXISTS, containerd records them, they survive kill -9",
          "[snapshotter][e2e]") {
  TempDir dir("tide-e2e-remote");
  Image image = BuildImage(dir / "layout");
  ExtractLayers(image, dir / "layers");

  TideSnapshotterOptions options;
  options.root = dir / "tide-root";
  options.socket = (dir / "tide.sock").string();
  options.binary =
      std::string(std::getenv("TIDE_BINARY_DIR")) + "/test/e2e/snapshotter/tide-snapshotter-bindmounter";
  options.env = {"TIDE_TEST_LAYERS_DIR=" + (dir / "layers").string()};
  auto tide = TideSnapshotterProcess::Start(options);
  REQUIRE(tide.ok());
  ContainerdOptions containerd_options;
  containerd_options.proxy_snapshotters = {{"tide", options.socket}};
  auto containerd = ContainerdProcess::Start(containerd_options);
  REQUIRE(containerd.ok());
  const ContainerdProcess& c = **containerd;

  // Image records and blobs, without unpacking: the snapshots must come from tide alone.
  REQUIRE(
      RunShell(absl::StrCat("tar -C ", image.layout.string(), " -cf ", (dir / "image.tar").string(), " ."))
          .exit_code == 0);
  auto import = c.Ctr({"images", "import", "--no-unpack", "--base-name", "example.test/busybox",
                       (dir / "image.tar").string()});
  INFO(import.output);
  REQUIRE(import.exit_code == 0);
  std::string ref = "example.test/busybox:v1";
  REQUIRE(c.Ctr({"leases", "create", "--id", "lazy-pull"}).exit_code == 0);

  // What containerd's unpacker (or tide's lazy-pull client) sends per layer: the target chainID and
  // the layer descriptor's containerd.io/snapshot/* annotations; no CRI labels (nerdctl, §3.1).
  auto stub =
      pb::Snapshots::NewStub(grpc::CreateChannel("unix:" + c.address(), grpc::InsecureChannelCredentials()));
  auto prepare_layer = [&](const std::string& ns, const std::string& lease, size_t i) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("containerd-namespace", ns);
    ctx.AddMetadata("containerd-lease", lease);
    pb::PrepareSnapshotRequest req;
    req.set_snapshotter("tide");
    req.set_key(absl::StrCat("extract-", i, " ", image.chain_ids[i]));
    if (i > 0) req.set_parent(image.chain_ids[i - 1]);
    (*req.mutable_labels())["containerd.io/snapshot.ref"] = image.chain_ids[i];
    (*req.mutable_labels())["containerd.io/snapshot/tide.repository"] = "example.test/busybox";
    (*req.mutable_labels())["containerd.io/snapshot/tide.index-digest"] = image.layer_digests[i];
    pb::PrepareSnapshotResponse resp;
    return stub->Prepare(&ctx, req, &resp);
  };
  for (size_t i = 0; i < image.chain_ids.size(); ++i) {
    auto status = prepare_layer("default", "lazy-pull", i);
    INFO("layer " << i << ": " << status.error_message() << "\n" << ReadFile((*tide)->log_path()));
    REQUIRE(status.error_code() == grpc::ALREADY_EXISTS);

    grpc::ClientContext stat_ctx;
    stat_ctx.AddMetadata("containerd-namespace", "default");
    pb::StatSnapshotRequest stat_req;
    stat_req.set_snapshotter("tide");
    stat_req.set_key(image.chain_ids[i]);
    pb::StatSnapshotResponse stat;
    REQUIRE(stub->Stat(&stat_ctx, stat_req, &stat).ok());
    CHECK(stat.info().kind() == pb::COMMITTED);
    CHECK(stat.info().labels().count("containerd.io/snapshot/remote") == 1);
    CHECK(stat.info().parent() == (i > 0 ? image.chain_ids[i - 1] : ""));
  }
  REQUIRE(c.Ctr({"content", "label", image.config_digest,
                 "containerd.io/gc.ref.snapshot.tide=" + image.chain_ids.back()})
              .exit_code == 0);
  REQUIRE(c.Ctr({"leases", "delete", "lazy-pull"}).exit_code == 0);

  auto run = RunContainer(c, ref, "lazy", {"cat", "/data/hello.txt", "/data/third.txt"});
  INFO(run.output << "\n" << ReadFile((*tide)->log_path()));
  REQUIRE(run.exit_code == 0);
  CHECK(run.output.find("hello from tide") != std::string::npos);
  CHECK(run.output.find("third layer") != std::string::npos);
  CHECK(MountsUnder(options.root) == 3);  // one per remote layer

  // kill -9: the store brings the three layer mounts back and the image runs again.
  (*tide)->Kill();
  tide->reset();
  tide = TideSnapshotterProcess::Start(options);
  REQUIRE(tide.ok());
  auto rerun = RunContainer(c, ref, "lazy-again", {"cat", "/data/hello.txt"});
  INFO(rerun.output << "\n" << ReadFile((*tide)->log_path()));
  CHECK(rerun.exit_code == 0);
  CHECK(rerun.output.find("hello from tide") != std::string::npos);
  CHECK(MountsUnder(options.root) == 3);

  // Another namespace pulling the same layers shares tide's snapshots: no new mounts.
  REQUIRE(c.Ctr({"-n", "other", "leases", "create", "--id", "other-pull"}).exit_code == 0);
  for (size_t i = 0; i < image.chain_ids.size(); ++i) {
    auto status = prepare_layer("other", "other-pull", i);
    INFO("layer " << i << " in namespace other: " << status.error_message());
    CHECK(status.error_code() == grpc::ALREADY_EXISTS);
  }
  CHECK(MountsUnder(options.root) == 3);

  // Removing the image in one namespace keeps what the other still references...
  REQUIRE(c.Ctr({"images", "rm", "--sync", ref}).exit_code == 0);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CHECK(MountsUnder(options.root) == 3);
  CHECK(c.Ctr({"-n", "other", "snapshots", "--snapshotter", "tide", "ls"})
            .output.find(image.chain_ids.back()) != std::string::npos);
  // ...and once nothing references them, GC removes the remote snapshots and unmounts them.
  REQUIRE(c.Ctr({"-n", "other", "leases", "delete", "--sync", "other-pull"}).exit_code == 0);
  bool collected =
      WaitFor([&] { return fs::is_empty(options.root / "snapshots"); }, std::chrono::seconds(20));
  INFO(TideRootState(c, options.root) << "\n" << ReadFile((*tide)->log_path()));
  CHECK(collected);
  CHECK(MountsUnder(options.root) == 0);
}
