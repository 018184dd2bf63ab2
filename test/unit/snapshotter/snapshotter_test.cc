#include "snapshotter/snapshotter.h"

#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/chain_id.h"
#include "snapshotter/remote_layer_labels.h"
#include "test/support/temp_dir.h"
#include "test/unit/snapshotter/bind_layer_mounter.h"

using tide::snapshotter::Filter;
using tide::snapshotter::Kind;
using tide::snapshotter::Labels;
using tide::snapshotter::RemoteLayerMounter;
using tide::snapshotter::RootLock;
using tide::snapshotter::SnapshotInfo;
using tide::snapshotter::Snapshotter;
using tide::testing::BindLayerMounter;
using tide::testing::TempDir;
using tide::testing::WriteBindLayerDiffId;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> Names(Snapshotter& s, const std::vector<std::string>& filters) {
  auto filter = Filter::Parse(filters);
  REQUIRE(filter.ok());
  std::vector<std::string> names;
  REQUIRE(s.List(*filter, [&](const SnapshotInfo& i) {
             names.push_back(i.name);
             return absl::OkStatus();
           }).ok());
  return names;
}

std::vector<std::string> DirEntries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::unique_ptr<Snapshotter>> OpenAt(const fs::path& root,
                                                    std::unique_ptr<RemoteLayerMounter> mounter) {
  auto lock = RootLock::Acquire(root);
  if (!lock.ok()) return lock.status();
  return Snapshotter::Open(std::move(*lock), std::move(mounter));
}

Labels RemoteLabels(const std::string& chain_id, const std::string& index_hex) {
  return {{"containerd.io/snapshot.ref", chain_id},
          {"containerd.io/snapshot/tide.repository", "127.0.0.1:5000/test/img"},
          {"containerd.io/snapshot/tide.index-digest", "sha256:" + index_hex}};
}

}  // namespace

TEST_CASE("snapshotter: start-up removes directories no committed row owns", "[snapshotter]") {
  TempDir root("tide-snap");
  {
    auto s = OpenAt(root.path(), nullptr);
    REQUIRE(s.ok());
    REQUIRE((*s)->Prepare("a", "", {}).ok());
    REQUIRE((*s)->Commit("a-c", "a", {}).ok());
    REQUIRE((*s)->Prepare("b", "a-c", {}).ok());
  }
  CHECK(DirEntries(root / "snapshots") == std::vector<std::string>{"1", "2"});
  // What a crash leaves behind: a temp dir before its rename, and a renamed dir whose row never committed.
  fs::create_directories(root / "snapshots" / "new-x1y2z3" / "fs");
  fs::create_directories(root / "snapshots" / "3" / "fs");
  tide::testing::WriteFile(root / "snapshots" / "3" / "fs" / "f", "half-made");
  auto s = OpenAt(root.path(), nullptr);
  REQUIRE(s.ok());
  CHECK(DirEntries(root / "snapshots") == std::vector<std::string>{"1", "2"});
  CHECK((*s)->Stat("b").ok());
  CHECK((*s)->Stat("a-c")->kind == Kind::kCommitted);
  // Removing a snapshot removes its directory, and the next one never reuses the id.
  REQUIRE((*s)->Remove("b").ok());
  CHECK(DirEntries(root / "snapshots") == std::vector<std::string>{"1"});
  REQUIRE((*s)->Prepare("c", "a-c", {}).ok());
  CHECK(DirEntries(root / "snapshots") == std::vector<std::string>{"1", "3"});
}

TEST_CASE("snapshotter: overlay mounts follow the parent chain, top first", "[snapshotter]") {
  TempDir root("tide-snap");
  auto s = OpenAt(root.path(), nullptr);
  REQUIRE(s.ok());
  auto& sn = **s;
  auto m = sn.Prepare("l1", "", {});
  REQUIRE(m.ok());
  REQUIRE(m->size() == 1);
  CHECK((*m)[0].type == "bind");
  CHECK((*m)[0].options == std::vector<std::string>{"rw", "rbind"});
  CHECK((*m)[0].source == (root / "snapshots" / "1" / "fs").string());
  REQUIRE(sn.Commit("c1", "l1", {}).ok());
  REQUIRE(sn.Prepare("l2", "c1", {}).ok());
  REQUIRE(sn.Commit("c2", "l2", {}).ok());
  auto top = sn.Prepare("rootfs", "c2", {});
  REQUIRE(top.ok());
  CHECK((*top)[0].type == "overlay");
  auto options = (*top)[0].options;
  CHECK(options.back() ==
        "lowerdir=" + (root / "snapshots/2/fs").string() + ":" + (root / "snapshots/1/fs").string());
  CHECK(std::find(options.begin(), options.end(), "upperdir=" + (root / "snapshots/3/fs").string()) !=
        options.end());
  auto view = sn.View("v", "c1", {});
  REQUIRE(view.ok());
  CHECK((*view)[0].type == "bind");
  CHECK((*view)[0].source == (root / "snapshots/1/fs").string());
  CHECK((*view)[0].options == std::vector<std::string>{"ro", "rbind"});
  CHECK(absl::IsFailedPrecondition(sn.Remove("c1")));
  CHECK(absl::IsFailedPrecondition(sn.Commit("x", "v", {})));
  CHECK(absl::IsInvalidArgument(sn.Prepare("y", "rootfs", {}).status()));
  CHECK(absl::IsNotFound(sn.Prepare("y", "missing", {}).status()));
  CHECK(absl::IsAlreadyExists(sn.Prepare("rootfs", "", {}).status()));
  CHECK(absl::IsInvalidArgument(sn.Prepare("big", "", {{"k", std::string(5000, 'v')}}).status()));
}

TEST_CASE("snapshotter: a tide layer becomes a committed remote snapshot containerd can find",
          "[snapshotter]") {
  TempDir root("tide-snap");
  TempDir layers("tide-layers");
  std::string hex(64, 'a');
  tide::testing::WriteFile(layers / hex / "etc" / "greeting", "hi from a remote layer");
  // A bottom layer's chainID is its diff_id.
  const std::string chain = "sha256:" + std::string(64, '1');
  WriteBindLayerDiffId(layers.path(), hex, chain);
  auto mounter_owned = std::make_unique<BindLayerMounter>(layers.path());
  BindLayerMounter* mounter = mounter_owned.get();
  auto s = OpenAt(root.path(), std::move(mounter_owned));
  REQUIRE(s.ok());
  auto& sn = **s;

  // A client's own restore label is dropped: only what the mounter returned is kept for Restore.
  Labels labels = RemoteLabels(chain, hex);
  labels[tide::testing::kBindRestoreLabel] = "/elsewhere";
  labels["containerd.io/snapshot/tide.restore.other"] = "x";
  auto prepared = sn.Prepare("default/1/extract-1 " + chain, "", labels);
  REQUIRE(absl::IsAlreadyExists(prepared.status()));
  CHECK(mounter->mounts == 1);
  // containerd's lookup after ALREADY_EXISTS.
  std::string lookup = "labels.\"containerd.io/snapshot.ref\"==" + chain + ",parent==\"\"";
  auto found = Names(sn, {lookup});
  REQUIRE(found.size() == 1);
  std::string name = found[0];
  CHECK(name == Snapshotter::RemoteSnapshotName(chain, ""));
  auto info = sn.Stat(name);
  REQUIRE(info.ok());
  CHECK(info->kind == Kind::kCommitted);
  CHECK(info->labels.at("containerd.io/snapshot/remote") == "remote snapshot");
  CHECK(info->labels.at("containerd.io/snapshot.ref") == chain);
  CHECK(info->labels.at(tide::testing::kBindRestoreLabel) == (layers / hex).string());
  CHECK(info->labels.count("containerd.io/snapshot/tide.restore.other") == 0);
  CHECK(absl::IsNotFound(sn.Stat("default/1/extract-1 " + chain).status()));  // the active key is gone

  // A container on top sees the remote layer's files through its lowerdir.
  auto rootfs = sn.Prepare("default/2/c1", name, {});
  REQUIRE(rootfs.ok());
  std::string lower = rootfs->at(0).source;  // single parent, active: overlay
  CHECK(rootfs->at(0).type == "overlay");
  std::string lowerdir = rootfs->at(0).options.back().substr(std::string("lowerdir=").size());
  CHECK(tide::testing::ReadFile(fs::path(lowerdir) / "etc" / "greeting") == "hi from a remote layer");

  // Another namespace pulling the same layer reuses it without a new mount.
  CHECK(
      absl::IsAlreadyExists(sn.Prepare("other/1/extract-2 " + chain, "", RemoteLabels(chain, hex)).status()));
  CHECK(mounter->mounts == 1);
  CHECK(absl::IsNotFound(sn.Stat("other/1/extract-2 " + chain).status()));

  // Same chainID on a different parent gets a different name: a second layer on the remote snapshot
  // of `chain`, and on an ordinary snapshot of the same chainID (another namespace unpacked it).
  std::string upper_hex(64, 'e');
  fs::create_directories(layers / upper_hex);
  const std::string upper_diff = "sha256:" + std::string(64, '5');
  WriteBindLayerDiffId(layers.path(), upper_hex, upper_diff);
  const std::string upper = tide::ChainIdOf(chain, *tide::Digest::Parse(upper_diff)).str();
  REQUIRE(sn.Prepare("default/3/base", "", {}).ok());
  REQUIRE(sn.Commit("default/4/" + chain, "default/3/base", {}).ok());
  CHECK(absl::IsAlreadyExists(
      sn.Prepare("default/5/x " + upper, name, RemoteLabels(upper, upper_hex)).status()));
  CHECK(absl::IsAlreadyExists(
      sn.Prepare("default/6/x " + upper, "default/4/" + chain, RemoteLabels(upper, upper_hex)).status()));
  auto on_remote =
      Names(sn, {"labels.\"containerd.io/snapshot.ref\"==" + upper + ",parent==\"" + name + "\""});
  auto on_local =
      Names(sn, {"labels.\"containerd.io/snapshot.ref\"==" + upper + ",parent==\"default/4/" + chain + "\""});
  REQUIRE(on_remote.size() == 1);
  REQUIRE(on_local.size() == 1);
  CHECK(on_remote[0] != on_local[0]);
  // Each was told the remote layers under it (a hint for its loader walk): the first the layer of
  // `chain`, the second none.
  const auto lowers_given = mounter->lowers_given();
  REQUIRE(lowers_given.size() >= 2);
  CHECK(lowers_given[lowers_given.size() - 2] == std::vector<fs::path>{fs::path(lowerdir)});
  CHECK(lowers_given.back().empty());

  // No tide labels, or a layer the mounter cannot serve: an ordinary snapshot.
  auto plain =
      sn.Prepare("default/7/extract", "", {{"containerd.io/snapshot.ref", "sha256:" + std::string(64, '2')}});
  CHECK(plain.ok());
  auto unknown = sn.Prepare("default/8/extract", "",
                            RemoteLabels("sha256:" + std::string(64, '3'), std::string(64, 'b')));
  CHECK(unknown.ok());

  // Restart: the remote layer is mounted again from the stored labels.
  s->reset();
  auto mounter2_owned = std::make_unique<BindLayerMounter>(layers.path());
  BindLayerMounter* mounter2 = mounter2_owned.get();
  auto s2 = OpenAt(root.path(), std::move(mounter2_owned));
  REQUIRE(s2.ok());
  CHECK(mounter2->restores == 3);
  CHECK(tide::testing::ReadFile(fs::path(lowerdir) / "etc" / "greeting") == "hi from a remote layer");

  // Removal unmounts; children first.
  CHECK(absl::IsFailedPrecondition((*s2)->Remove(name)));
  REQUIRE((*s2)->Remove("default/2/c1").ok());
  REQUIRE((*s2)->Remove(on_remote[0]).ok());
  REQUIRE((*s2)->Remove(name).ok());
  CHECK(mounter2->unmounts >= 1);
  CHECK_FALSE(fs::exists(lowerdir));
  REQUIRE((*s2)->Remove(on_local[0]).ok());
}

namespace {

// The mount step fails (registry down, corrupt index...): containerd must get ordinary mounts.
class FailingMounter : public BindLayerMounter {
 public:
  using BindLayerMounter::BindLayerMounter;
  absl::StatusOr<tide::snapshotter::MountedLayer> Mount(const Labels&, const fs::path&,
                                                        const std::vector<fs::path>&) override {
    return absl::UnavailableError("registry down");
  }
};

}  // namespace

TEST_CASE("snapshotter: a failed remote mount falls back to an ordinary snapshot", "[snapshotter]") {
  TempDir root("tide-snap");
  TempDir layers("tide-layers");
  std::string hex(64, 'c');
  fs::create_directories(layers / hex);
  auto s = OpenAt(root.path(), std::make_unique<FailingMounter>(layers.path()));
  REQUIRE(s.ok());
  const std::string chain = "sha256:" + std::string(64, '4');
  auto mounts = (*s)->Prepare("default/1/extract " + chain, "", RemoteLabels(chain, hex));
  REQUIRE(mounts.ok());
  CHECK(mounts->at(0).type == "bind");
  auto info = (*s)->Stat("default/1/extract " + chain);
  REQUIRE(info.ok());
  CHECK(info->kind == Kind::kActive);
  CHECK(info->labels.count("containerd.io/snapshot/remote") == 0);
  // containerd then applies the layer and commits it like any other.
  REQUIRE((*s)->Commit("default/2/" + chain, "default/1/extract " + chain, RemoteLabels(chain, hex)).ok());
  CHECK_FALSE((*s)->Stat("default/2/" + chain)->remote);
}

TEST_CASE("remote layer labels: CRI labels first, tide annotations without them", "[snapshotter]") {
  using tide::snapshotter::LocateRemoteLayer;
  Labels cri = {{"containerd.io/snapshot.ref", "sha256:aa"},
                {"containerd.io/snapshot/cri.image-ref", "registry.test/app:v1"},
                {"containerd.io/snapshot/cri.layer-digest", "sha256:bb"},
                {"containerd.io/snapshot/cri.image-layers", "sha256:bb,sha256:cc"},
                {"containerd.io/snapshot/tide.repository", "registry.test/app"},
                {"containerd.io/snapshot/tide.index-digest", "sha256:dd"}};
  auto location = LocateRemoteLayer(cri);
  REQUIRE(location.ok());
  CHECK(location->reference == "registry.test/app:v1");
  CHECK(location->layer_digest == "sha256:bb");
  CHECK(location->index_digest == "sha256:dd");
  CHECK(location->image_layers == std::vector<std::string>{"sha256:bb", "sha256:cc"});

  Labels nerdctl = {{"containerd.io/snapshot.ref", "sha256:aa"},
                    {"containerd.io/snapshot/tide.repository", "registry.test/app"},
                    {"containerd.io/snapshot/tide.index-digest", "sha256:dd"}};
  location = LocateRemoteLayer(nerdctl);
  REQUIRE(location.ok());
  CHECK(location->reference == "registry.test/app");
  CHECK(location->layer_digest.empty());
  nerdctl["containerd.io/snapshot/tide.layer-digest"] = "sha256:ee";
  CHECK(LocateRemoteLayer(nerdctl)->layer_digest == "sha256:ee");

  // Not a tide layer, or a tide layer that cannot be located: NotFound, i.e. an ordinary pull.
  CHECK(absl::IsNotFound(
      LocateRemoteLayer({{"containerd.io/snapshot/cri.layer-digest", "sha256:bb"}}).status()));
  CHECK(absl::IsNotFound(
      LocateRemoteLayer({{"containerd.io/snapshot/tide.index-digest", "sha256:dd"}}).status()));
  CHECK(absl::IsNotFound(LocateRemoteLayer({{"containerd.io/snapshot/tide.repository", "r/x"}}).status()));
}

TEST_CASE("snapshotter: a remote layer that cannot be restored makes its users UNAVAILABLE",
          "[snapshotter]") {
  TempDir root("tide-snap");
  TempDir layers("tide-layers");
  std::string hex(64, 'd');
  tide::testing::WriteFile(layers / hex / "f", "x");
  const std::string chain = "sha256:" + std::string(64, '5');
  WriteBindLayerDiffId(layers.path(), hex, chain);
  std::string name = Snapshotter::RemoteSnapshotName(chain, "");
  {
    auto s = OpenAt(root.path(), std::make_unique<BindLayerMounter>(layers.path()));
    REQUIRE(s.ok());
    REQUIRE(absl::IsAlreadyExists((*s)->Prepare("k", "", RemoteLabels(chain, hex)).status()));
    REQUIRE((*s)->View("v", name, {}).ok());
  }
  // The layer is gone when the daemon comes back (cache wiped, registry unreachable).
  umount2((root / "snapshots" / "1" / "fs").c_str(), MNT_DETACH);
  fs::remove_all(layers / hex);
  auto s = OpenAt(root.path(), std::make_unique<BindLayerMounter>(layers.path()));
  REQUIRE(s.ok());
  CHECK((*s)->Stat(name).ok());  // still known, so containerd's records stay valid
  CHECK(absl::IsUnavailable((*s)->Prepare("c", name, {}).status()));
  CHECK(absl::IsUnavailable((*s)->Mounts("v").status()));
  CHECK(absl::IsNotFound((*s)->Stat("c").status()));  // nothing was left half-made
  // A new pull of the layer while it is still unavailable unpacks it locally instead.
  auto local = (*s)->Prepare("k2", "", RemoteLabels(chain, hex));
  REQUIRE(local.ok());
  CHECK(local->at(0).type == "bind");
  REQUIRE((*s)->Remove("k2").ok());
  // Once the layer can be served again, the next pull heals the existing snapshot.
  tide::testing::WriteFile(layers / hex / "f", "x");
  CHECK(absl::IsAlreadyExists((*s)->Prepare("k3", "", RemoteLabels(chain, hex)).status()));
  CHECK((*s)->Mounts("v").ok());
  REQUIRE((*s)->Remove("v").ok());
  REQUIRE((*s)->Remove(name).ok());
}

TEST_CASE("snapshotter: one process per state directory", "[snapshotter]") {
  TempDir root("tide-snap");
  auto first = OpenAt(root.path(), nullptr);
  REQUIRE(first.ok());
  auto second = RootLock::Acquire(root.path());
  REQUIRE(absl::IsFailedPrecondition(second.status()));
  CHECK(std::string(second.status().message()).find(root.path().string()) != std::string::npos);
  CHECK(std::string(second.status().message()).find(absl::StrCat("pid ", getpid())) != std::string::npos);
  first->reset();
  CHECK(OpenAt(root.path(), nullptr).ok());
}

TEST_CASE("snapshotter: concurrent pulls of one remote layer end with one snapshot and one mount",
          "[snapshotter]") {
  TempDir root("tide-snap");
  TempDir layers("tide-layers");
  std::string hex(64, 'e');
  tide::testing::WriteFile(layers / hex / "f", "x");
  const std::string chain = "sha256:" + std::string(64, '6');
  WriteBindLayerDiffId(layers.path(), hex, chain);
  auto mounter_owned = std::make_unique<BindLayerMounter>(layers.path());
  BindLayerMounter* mounter = mounter_owned.get();
  auto s = OpenAt(root.path(), std::move(mounter_owned));
  REQUIRE(s.ok());
  std::vector<std::thread> threads;
  std::atomic<int> already_exists{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = (*s)->Prepare("ns" + std::to_string(i) + "/1/extract " + chain, "", RemoteLabels(chain, hex));
      if (absl::IsAlreadyExists(r.status())) ++already_exists;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(already_exists == 8);
  CHECK(Names(*s->get(), {}) == std::vector<std::string>{Snapshotter::RemoteSnapshotName(chain, "")});
  CHECK(DirEntries(root / "snapshots").size() == 1);
  CHECK(mounter->mounts - mounter->unmounts == 1);  // losers of the race unmounted theirs
  REQUIRE((*s)->Remove(Snapshotter::RemoteSnapshotName(chain, "")).ok());
  CHECK(DirEntries(root / "snapshots").empty());
}

TEST_CASE("snapshotter: a remote layer not bound to its chainID falls back to an ordinary snapshot",
          "[snapshotter][security]") {
  TempDir root("tide-snap");
  TempDir layers("tide-layers");
  // The attack: an image's config claims a popular base layer's diff_id (so its chainID), while its
  // tide layer's index commits to other content.
  std::string hostile_hex(64, 'f');
  tide::testing::WriteFile(layers / hostile_hex / "data" / "who", "hostile");
  WriteBindLayerDiffId(layers.path(), hostile_hex, "sha256:" + std::string(64, '6'));
  auto mounter_owned = std::make_unique<BindLayerMounter>(layers.path());
  BindLayerMounter* mounter = mounter_owned.get();
  auto s = OpenAt(root.path(), std::move(mounter_owned));
  REQUIRE(s.ok());
  const std::string claimed = "sha256:" + std::string(64, '7');
  auto prepared = (*s)->Prepare("default/1/extract " + claimed, "", RemoteLabels(claimed, hostile_hex));
  REQUIRE(prepared.ok());  // ordinary mounts: containerd unpacks and checks the diff_id itself
  CHECK(mounter->mounts == 1);
  CHECK(mounter->unmounts == 1);
  CHECK(Names(**s, {"labels.\"containerd.io/snapshot.ref\"==" + claimed}) ==
        std::vector<std::string>{"default/1/extract " + claimed});
  CHECK_FALSE((*s)->Stat("default/1/extract " + claimed)->remote);

  // A parent that does not say which chainID it stands for cannot be checked: fall back too.
  std::string hex(64, 'a');
  fs::create_directories(layers / hex);
  const std::string diff = "sha256:" + std::string(64, '8');
  WriteBindLayerDiffId(layers.path(), hex, diff);
  REQUIRE((*s)->Prepare("default/2/base", "", {}).ok());
  REQUIRE((*s)->Commit("default/3/base", "default/2/base", {}).ok());
  const std::string on_unknown =
      tide::ChainIdOf("sha256:" + std::string(64, '9'), *tide::Digest::Parse(diff)).str();
  auto unknown_parent = (*s)->Prepare("default/4/x", "default/3/base", RemoteLabels(on_unknown, hex));
  REQUIRE(unknown_parent.ok());
  CHECK_FALSE((*s)->Stat("default/4/x")->remote);
}

TEST_CASE("snapshotter: a committed remote snapshot is reused only for the same layer blob",
          "[snapshotter][security]") {
  TempDir root("tide-snap");
  TempDir layers("tide-layers");
  const std::string diff = "sha256:" + std::string(64, '1');
  std::string first_hex(64, 'a');
  tide::testing::WriteFile(layers / first_hex / "data" / "who", "first");
  WriteBindLayerDiffId(layers.path(), first_hex, diff);
  // A second blob whose index claims the same diff_id (it cannot be caught before it is fully fetched).
  std::string second_hex(64, 'b');
  tide::testing::WriteFile(layers / second_hex / "data" / "who", "second");
  WriteBindLayerDiffId(layers.path(), second_hex, diff);
  auto mounter_owned = std::make_unique<BindLayerMounter>(layers.path());
  BindLayerMounter* mounter = mounter_owned.get();
  auto s = OpenAt(root.path(), std::move(mounter_owned));
  REQUIRE(s.ok());
  REQUIRE(absl::IsAlreadyExists(
      (*s)->Prepare("ns1/1/extract " + diff, "", RemoteLabels(diff, first_hex)).status()));
  auto second = (*s)->Prepare("ns2/1/extract " + diff, "", RemoteLabels(diff, second_hex));
  REQUIRE(second.ok());  // not the first blob's snapshot: unpacked locally
  CHECK(mounter->mounts == 1);
  CHECK_FALSE((*s)->Stat("ns2/1/extract " + diff)->remote);
  // The same blob again is still reused.
  CHECK(absl::IsAlreadyExists(
      (*s)->Prepare("ns3/1/extract " + diff, "", RemoteLabels(diff, first_hex)).status()));
  CHECK(mounter->mounts == 1);
}

TEST_CASE("snapshotter: a committed snapshot is created when committed (Created == Updated)",
          "[snapshotter]") {
  // containerd's snapshotter suite (Update) expects this of every snapshotter, as its own report it.
  TempDir root("tide-snap");
  auto s = OpenAt(root.path(), nullptr);
  REQUIRE(s.ok());
  REQUIRE((*s)->Prepare("active", "", {}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE((*s)->Commit("committed", "active", {}).ok());
  auto info = (*s)->Stat("committed");
  REQUIRE(info.ok());
  CHECK(info->created == info->updated);
  // A label update afterwards moves Updated only.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  SnapshotInfo change = *info;
  change.labels = {{"x", "y"}};
  auto updated = (*s)->Update(change, {"labels"});
  REQUIRE(updated.ok());
  CHECK(updated->created == info->created);
  CHECK(updated->updated > info->updated);
}

namespace {

// A BindLayerMounter whose Unmount and Restore, once held, wait at a gate: the mounter work that
// can take long in the real daemon (readers of an unmounting FUSE layer, an index fetch).
class GatedMounter : public BindLayerMounter {
 public:
  using BindLayerMounter::BindLayerMounter;
  void Hold() { held_ = true; }
  // Blocks until a held call has reached the gate; false after 10 s.
  bool WaitEntered() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return entered_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    held_ = false;
    cv_.notify_all();
  }
  absl::Status Unmount(const fs::path& target) override {
    Gate();
    return BindLayerMounter::Unmount(target);
  }
  absl::Status Restore(const Labels& labels, const fs::path& target) override {
    Gate();
    return BindLayerMounter::Restore(labels, target);
  }

 private:
  void Gate() {
    std::unique_lock lock(mu_);
    if (!held_) return;
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !held_; });
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
  bool entered_ = false;
};

// Runs `rpcs` on another thread and reports whether it finished within 10 s; the gate is opened
// either way, so a snapshotter that does wait does not hang the test.
bool FinishesWhileGated(GatedMounter& mounter, const std::function<void()>& rpcs) {
  auto done = std::async(std::launch::async, rpcs);
  bool finished = done.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  mounter.Open();
  done.wait();
  return finished;
}

}  // namespace

TEST_CASE("snapshotter: no RPC waits behind a remote layer's unmount", "[snapshotter]") {
  TempDir root("tide-snap");
  TempDir layers("tide-layers");
  std::string hex(64, 'f');
  tide::testing::WriteFile(layers / hex / "f", "x");
  const std::string chain = "sha256:" + std::string(64, '7');
  WriteBindLayerDiffId(layers.path(), hex, chain);
  auto owned = std::make_unique<GatedMounter>(layers.path());
  GatedMounter* mounter = owned.get();
  auto s = OpenAt(root.path(), std::move(owned));
  REQUIRE(s.ok());
  Snapshotter& sn = **s;
  const std::string name = Snapshotter::RemoteSnapshotName(chain, "");
  REQUIRE(absl::IsAlreadyExists(sn.Prepare("k", "", RemoteLabels(chain, hex)).status()));
  REQUIRE(sn.Prepare("other", "", {}).ok());

  mounter->Hold();
  auto removal = std::async(std::launch::async, [&] { return sn.Remove(name); });
  REQUIRE(mounter->WaitEntered());
  bool finished = FinishesWhileGated(*mounter, [&] {
    CHECK(sn.Stat(name).ok());
    CHECK(sn.Mounts("other").ok());
    CHECK(sn.Commit("other-done", "other", {}).ok());
    CHECK(sn.View("v", "other-done", {}).ok());
    // Nothing may be built on the layer being unmounted.
    auto child = sn.Prepare("child", name, {});
    CHECK(absl::IsFailedPrecondition(child.status()));
    CHECK(std::string(child.status().message()).find("being removed") != std::string::npos);
    // A new pull of it while it goes away unpacks locally.
    auto again = sn.Prepare("k2", "", RemoteLabels(chain, hex));
    REQUIRE(again.ok());
    CHECK(again->at(0).type == "bind");
  });
  CHECK(finished);
  CHECK(removal.get().ok());
  CHECK(absl::IsNotFound(sn.Stat(name).status()));
  CHECK(absl::IsNotFound(sn.Stat("child").status()));
}

TEST_CASE("snapshotter: no RPC waits behind a remote layer's restore", "[snapshotter]") {
  TempDir root("tide-snap");
  TempDir layers("tide-layers");
  std::string hex(64, 'c');
  tide::testing::WriteFile(layers / hex / "f", "x");
  const std::string chain = "sha256:" + std::string(64, '8');
  WriteBindLayerDiffId(layers.path(), hex, chain);
  const std::string name = Snapshotter::RemoteSnapshotName(chain, "");
  {
    auto s = OpenAt(root.path(), std::make_unique<BindLayerMounter>(layers.path()));
    REQUIRE(s.ok());
    REQUIRE(absl::IsAlreadyExists((*s)->Prepare("k", "", RemoteLabels(chain, hex)).status()));
  }
  // The restart cannot restore the layer (its source is gone); it comes back afterwards.
  umount2((root / "snapshots" / "1" / "fs").c_str(), MNT_DETACH);
  fs::rename(layers / hex, layers / "away");
  auto owned = std::make_unique<GatedMounter>(layers.path());
  GatedMounter* mounter = owned.get();
  auto s = OpenAt(root.path(), std::move(owned));
  REQUIRE(s.ok());
  Snapshotter& sn = **s;
  fs::rename(layers / "away", layers / hex);
  REQUIRE(sn.Prepare("other", "", {}).ok());

  mounter->Hold();
  auto pull = std::async(std::launch::async, [&] { return sn.Prepare("k3", "", RemoteLabels(chain, hex)); });
  REQUIRE(mounter->WaitEntered());
  bool finished = FinishesWhileGated(*mounter, [&] {
    CHECK(sn.Stat(name).ok());
    CHECK(sn.Mounts("other").ok());
    CHECK(absl::IsUnavailable(sn.Prepare("child", name, {}).status()));  // not restored yet
    CHECK(sn.Commit("other-done", "other", {}).ok());
  });
  CHECK(finished);
  CHECK(absl::IsAlreadyExists(pull.get().status()));  // healed: the pull reuses it
  CHECK(sn.Prepare("child", name, {}).ok());
  umount2((root / "snapshots" / "1" / "fs").c_str(), MNT_DETACH);
}
