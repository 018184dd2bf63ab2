// Prepare/Commit/Remove round trips per second through a private containerd: tide (proxy plugin)
// against containerd's built-in overlayfs snapshotter in the same run, plus tide without containerd.
// Usage: snapshotter_roundtrip_bench [rounds]   (root; TIDE_BINARY_DIR = the build directory)
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

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

// Seconds for `rounds` round trips of Prepare(key on a committed parent) + Commit + Remove(committed);
// negative on failure (main returns normally so the daemons it started are stopped).
double Time(Client& client, const std::string& base, const std::string& tag, int rounds) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) {
    std::string key = absl::StrCat(tag, "-", i);
    if (!client.Prepare(key, base) || !client.Commit(key + "-c", key) || !client.Remove(key + "-c")) {
      return -1;
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Round trips per second for each client, measured in alternating blocks so that load changes on
// a shared machine hit every side alike.
std::vector<double> Measure(std::vector<Client*> clients, int rounds, int block) {
  std::vector<double> seconds(clients.size(), 0);
  for (size_t c = 0; c < clients.size(); ++c) {
    if (!clients[c]->Prepare("base-a", "") || !clients[c]->Commit("base", "base-a")) return {};
  }
  for (int done = 0; done < rounds; done += block) {
    for (size_t c = 0; c < clients.size(); ++c) {
      double t = Time(*clients[c], "base", absl::StrCat("b", done), block);
      if (t < 0) return {};
      seconds[c] += t;
    }
  }
  std::vector<double> rates;
  for (double t : seconds) rates.push_back(rounds / t);
  return rates;
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
  int block = 25;
  rounds = (rounds + block - 1) / block * block;
  auto rates = Measure({&overlay, &through, &alone}, rounds, block);
  if (rates.empty()) return 1;
  std::printf(
      "rounds per side: %d in alternating blocks of %d (Prepare on a committed parent + Commit + Remove)\n",
      rounds, block);
  std::printf("containerd + overlayfs : %8.1f round trips/s (baseline)\n", rates[0]);
  std::printf("containerd + tide      : %8.1f round trips/s  ratio %.2fx\n", rates[1], rates[1] / rates[0]);
  std::printf("tide without containerd: %8.1f round trips/s  ratio %.2fx\n", rates[2], rates[2] / rates[0]);
  return 0;
}
