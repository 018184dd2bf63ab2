// Prepare/Commit/Remove round trips per second through a private containerd: tide (proxy plugin)
// against containerd's built-in overlayfs snapshotter in the same run, plus tide without containerd.
// Usage: snapshotter_roundtrip_bench [rounds]   (root; TIDE_BINARY_DIR = the build directory)
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "containerd/services/leases/v1/leases.grpc.pb.h"
#include "containerd/services/snapshots/v1/snapshots.grpc.pb.h"
#include "test/support/containerd_process.h"
#include "test/support/temp_dir.h"
#include "test/unit/snapshotter/tide_snapshotter_process.h"

namespace pb = containerd::services::snapshots::v1;
using namespace tide::testing;

namespace {

class Client {
 public:
  Client(const std::string& socket, std::string snapshotter, std::string ns)
      : channel_(grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials())),
        stub_(pb::Snapshots::NewStub(channel_)),
        snapshotter_(std::move(snapshotter)),
        ns_(std::move(ns)) {}

  bool Prepare(const std::string& key, const std::string& parent) {
    pb::PrepareSnapshotRequest req;
    pb::PrepareSnapshotResponse resp;
    req.set_snapshotter(snapshotter_);
    req.set_key(key);
    req.set_parent(parent);
    return Check("Prepare", stub_->Prepare(Context().get(), req, &resp));
  }
  bool Commit(const std::string& name, const std::string& key) {
    pb::CommitSnapshotRequest req;
    google::protobuf::Empty resp;
    req.set_snapshotter(snapshotter_);
    req.set_name(name);
    req.set_key(key);
    return Check("Commit", stub_->Commit(Context().get(), req, &resp));
  }
  bool Remove(const std::string& key) {
    pb::RemoveSnapshotRequest req;
    google::protobuf::Empty resp;
    req.set_snapshotter(snapshotter_);
    req.set_key(key);
    return Check("Remove", stub_->Remove(Context().get(), req, &resp));
  }

  // Through containerd a lease holds the snapshots, as during an unpack; otherwise garbage
  // collection passes triggered by the removals would delete the benchmark's active snapshots.
  bool CreateLease(const std::string& id) {
    auto leases = containerd::services::leases::v1::Leases::NewStub(channel_);
    containerd::services::leases::v1::CreateRequest req;
    containerd::services::leases::v1::CreateResponse resp;
    req.set_id(id);
    if (!Check("Leases/Create", leases->Create(Context().get(), req, &resp))) return false;
    lease_ = id;
    return true;
  }

 private:
  std::unique_ptr<grpc::ClientContext> Context() {
    auto c = std::make_unique<grpc::ClientContext>();
    if (!ns_.empty()) c->AddMetadata("containerd-namespace", ns_);
    if (!lease_.empty()) c->AddMetadata("containerd-lease", lease_);
    return c;
  }
  static bool Check(const char* what, const grpc::Status& s) {
    if (!s.ok()) std::fprintf(stderr, "%s failed: %s\n", what, s.error_message().c_str());
    return s.ok();
  }
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::Snapshots::Stub> stub_;
  std::string snapshotter_;
  std::string ns_;
  std::string lease_;
};

// Round trips per second: Prepare(key on a committed base) + Commit + Remove(committed).
double Measure(Client& client, const std::string& tag, int rounds) {
  std::string base = "base-" + tag;
  if (!client.Prepare(base + "-a", "") || !client.Commit(base, base + "-a")) std::exit(1);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) {
    std::string key = absl::StrCat(tag, "-", i);
    if (!client.Prepare(key, base) || !client.Commit(key + "-c", key) || !client.Remove(key + "-c"))
      std::exit(1);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return rounds / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 500;
  TempDir dir("tide-bench");
  TideSnapshotterOptions proxied;
  proxied.root = dir / "proxied";
  proxied.socket = (dir / "proxied.sock").string();
  auto tide = TideSnapshotterProcess::Start(proxied);
  TideSnapshotterOptions direct;
  direct.root = dir / "direct";
  direct.socket = (dir / "direct.sock").string();
  auto tide_direct = TideSnapshotterProcess::Start(direct);
  if (!tide.ok() || !tide_direct.ok()) {
    std::fprintf(stderr, "tide-snapshotter did not start\n");
    return 1;
  }
  ContainerdOptions options;
  options.proxy_snapshotters = {{"tide", proxied.socket}};
  auto containerd = ContainerdProcess::Start(options);
  if (!containerd.ok()) {
    std::fprintf(stderr, "%s\n", std::string(containerd.status().message()).c_str());
    return 1;
  }
  Client overlay((*containerd)->address(), "overlayfs", "bench");
  Client through((*containerd)->address(), "tide", "bench");
  Client alone(direct.socket, "tide", "");
  if (!overlay.CreateLease("bench-overlayfs") || !through.CreateLease("bench-tide")) return 1;
  // Warm-up, then alternate so drift on a shared machine hits both sides alike.
  Measure(overlay, "warm-o", rounds / 10 + 1);
  Measure(through, "warm-t", rounds / 10 + 1);
  double o1 = Measure(overlay, "o1", rounds / 2);
  double t1 = Measure(through, "t1", rounds / 2);
  double t2 = Measure(through, "t2", rounds / 2);
  double o2 = Measure(overlay, "o2", rounds / 2);
  double d = Measure(alone, "d", rounds);
  double o = (o1 + o2) / 2, t = (t1 + t2) / 2;
  std::printf("rounds per side: %d (Prepare on a committed parent + Commit + Remove)\n", rounds);
  std::printf("containerd + overlayfs : %8.1f round trips/s (baseline)\n", o);
  std::printf("containerd + tide      : %8.1f round trips/s  ratio %.2fx\n", t, t / o);
  std::printf("tide without containerd: %8.1f round trips/s  ratio %.2fx\n", d, d / o);
  return 0;
}
