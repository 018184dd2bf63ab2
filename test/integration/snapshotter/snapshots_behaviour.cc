#include "test/integration/snapshotter/snapshots_behaviour.h"

#include <grpcpp/grpcpp.h>
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "containerd/services/leases/v1/leases.grpc.pb.h"
#include "containerd/services/snapshots/v1/snapshots.grpc.pb.h"
#include "test/support/temp_dir.h"

namespace tide::testing {
namespace {

namespace pb = containerd::services::snapshots::v1;
namespace fs = std::filesystem;
using Labels = std::map<std::string, std::string>;

std::string CodeName(const grpc::Status& s) {
  switch (s.error_code()) {
    case grpc::OK:
      return "OK";
    case grpc::CANCELLED:
      return "CANCELLED";
    case grpc::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::UNAVAILABLE:
      return "UNAVAILABLE";
    default:
      return absl::StrCat("CODE_", static_cast<int>(s.error_code()), "(", s.error_message(), ")");
  }
}

std::string LabelsText(const google::protobuf::Map<std::string, std::string>& labels) {
  std::vector<std::string> items;
  for (const auto& [k, v] : labels) items.push_back(absl::StrCat(k, "=", v));
  std::sort(items.begin(), items.end());
  return absl::StrCat("{", absl::StrJoin(items, ","), "}");
}

std::string KindText(pb::Kind kind) {
  switch (kind) {
    case pb::ACTIVE:
      return "active";
    case pb::VIEW:
      return "view";
    case pb::COMMITTED:
      return "committed";
    default:
      return "unknown";
  }
}

// Mount shape without paths: type, option names, and how many lower dirs.
std::string Shape(const google::protobuf::RepeatedPtrField<containerd::types::Mount>& mounts) {
  std::vector<std::string> out;
  for (const auto& m : mounts) {
    std::vector<std::string> options;
    for (const auto& o : m.options()) {
      auto eq = o.find('=');
      if (eq == std::string::npos) {
        options.push_back(o);
      } else if (absl::StartsWith(o, "lowerdir=")) {
        options.push_back(absl::StrCat(
            "lowerdir(", std::vector<std::string>(absl::StrSplit(o.substr(9), ':')).size(), ")"));
      } else {
        options.push_back(o.substr(0, eq));
      }
    }
    out.push_back(absl::StrCat(m.type(), "[", absl::StrJoin(options, ","), "]"));
  }
  return absl::StrJoin(out, " ");
}

// Mounts what a snapshotter returned on target (as containerd would), unmounted on destruction.
class ScopedMount {
 public:
  ScopedMount(const google::protobuf::RepeatedPtrField<containerd::types::Mount>& mounts,
              const fs::path& target)
      : target_(target) {
    fs::create_directories(target);
    if (mounts.size() != 1) {
      error_ = "expected exactly one mount";
      return;
    }
    const auto& m = mounts[0];
    unsigned long flags = 0;
    std::vector<std::string> data;
    for (const auto& o : m.options()) {
      if (o == "ro")
        flags |= MS_RDONLY;
      else if (o == "rw")
        continue;
      else if (o == "bind")
        flags |= MS_BIND;
      else if (o == "rbind")
        flags |= MS_BIND | MS_REC;
      else
        data.push_back(o);
    }
    std::string joined = absl::StrJoin(data, ",");
    if (mount(m.source().c_str(), target.c_str(), m.type() == "bind" ? nullptr : m.type().c_str(),
              flags & ~MS_RDONLY, joined.c_str()) != 0) {
      error_ = absl::StrCat("mount failed: ", std::strerror(errno));
      return;
    }
    mounted_ = true;
    if ((flags & MS_RDONLY) &&
        mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
      error_ = absl::StrCat("remount ro failed: ", std::strerror(errno));
    }
  }
  ~ScopedMount() {
    if (mounted_) umount2(target_.c_str(), MNT_DETACH);
  }
  const std::string& error() const { return error_; }

 private:
  fs::path target_;
  bool mounted_ = false;
  std::string error_;
};

class Suite {
 public:
  explicit Suite(const SnapshotsTarget& t)
      : t_(t),
        stub_(pb::Snapshots::NewStub(
            grpc::CreateChannel("unix:" + t.socket, grpc::InsecureChannelCredentials()))) {}

  std::vector<std::string> Run();

 private:
  std::unique_ptr<grpc::ClientContext> Context() {
    auto c = std::make_unique<grpc::ClientContext>();
    if (!t_.ns.empty()) c->AddMetadata("containerd-namespace", t_.ns);
    if (!lease_.empty()) c->AddMetadata("containerd-lease", lease_);
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return c;
  }
  void Log(std::string line) { out_.push_back(std::move(line)); }

  grpc::Status Prepare(const std::string& key, const std::string& parent, const Labels& labels,
                       pb::PrepareSnapshotResponse* resp) {
    pb::PrepareSnapshotRequest req;
    req.set_snapshotter(t_.snapshotter);
    req.set_key(key);
    req.set_parent(parent);
    req.mutable_labels()->insert(labels.begin(), labels.end());
    auto s = stub_->Prepare(Context().get(), req, resp);
    Log(absl::StrCat("Prepare(", key, ", parent=", parent, ") -> ", CodeName(s),
                     s.ok() ? " " + Shape(resp->mounts()) : ""));
    return s;
  }
  grpc::Status View(const std::string& key, const std::string& parent, pb::ViewSnapshotResponse* resp) {
    pb::ViewSnapshotRequest req;
    req.set_snapshotter(t_.snapshotter);
    req.set_key(key);
    req.set_parent(parent);
    auto s = stub_->View(Context().get(), req, resp);
    Log(absl::StrCat("View(", key, ", parent=", parent, ") -> ", CodeName(s),
                     s.ok() ? " " + Shape(resp->mounts()) : ""));
    return s;
  }
  void Mounts(const std::string& key) {
    pb::MountsRequest req;
    pb::MountsResponse resp;
    req.set_snapshotter(t_.snapshotter);
    req.set_key(key);
    auto s = stub_->Mounts(Context().get(), req, &resp);
    Log(absl::StrCat("Mounts(", key, ") -> ", CodeName(s), s.ok() ? " " + Shape(resp.mounts()) : ""));
  }
  void Commit(const std::string& name, const std::string& key, const Labels& labels) {
    pb::CommitSnapshotRequest req;
    google::protobuf::Empty resp;
    req.set_snapshotter(t_.snapshotter);
    req.set_name(name);
    req.set_key(key);
    req.mutable_labels()->insert(labels.begin(), labels.end());
    Log(absl::StrCat("Commit(", name, " <- ", key, ") -> ",
                     CodeName(stub_->Commit(Context().get(), req, &resp))));
  }
  void Remove(const std::string& key) {
    pb::RemoveSnapshotRequest req;
    google::protobuf::Empty resp;
    req.set_snapshotter(t_.snapshotter);
    req.set_key(key);
    Log(absl::StrCat("Remove(", key, ") -> ", CodeName(stub_->Remove(Context().get(), req, &resp))));
  }
  void Stat(const std::string& key) {
    pb::StatSnapshotRequest req;
    pb::StatSnapshotResponse resp;
    req.set_snapshotter(t_.snapshotter);
    req.set_key(key);
    auto s = stub_->Stat(Context().get(), req, &resp);
    std::string detail;
    if (s.ok()) {
      const auto& i = resp.info();
      detail = absl::StrCat(
          " name=", i.name(), " parent=", i.parent(), " kind=", KindText(i.kind()),
          " labels=", LabelsText(i.labels()),
          i.created_at().seconds() > 0 && i.updated_at().seconds() > 0 ? " times=set" : " times=unset");
    }
    Log(absl::StrCat("Stat(", key, ") -> ", CodeName(s), detail));
  }
  void Usage(const std::string& key) {
    pb::UsageRequest req;
    pb::UsageResponse resp;
    req.set_snapshotter(t_.snapshotter);
    req.set_key(key);
    auto s = stub_->Usage(Context().get(), req, &resp);
    Log(absl::StrCat("Usage(", key, ") -> ", CodeName(s),
                     s.ok() ? absl::StrCat(" size=", resp.size(), " inodes=", resp.inodes()) : ""));
  }
  void Update(const std::string& key, const Labels& labels, const std::vector<std::string>& paths) {
    pb::UpdateSnapshotRequest req;
    pb::UpdateSnapshotResponse resp;
    req.set_snapshotter(t_.snapshotter);
    req.mutable_info()->set_name(key);
    req.mutable_info()->mutable_labels()->insert(labels.begin(), labels.end());
    for (const auto& p : paths) req.mutable_update_mask()->add_paths(p);
    auto s = stub_->Update(Context().get(), req, &resp);
    Log(absl::StrCat("Update(", key, ", [", absl::StrJoin(paths, " "), "]) -> ", CodeName(s),
                     s.ok() ? " labels=" + LabelsText(resp.info().labels()) : ""));
  }
  void List(const std::vector<std::string>& filters) {
    pb::ListSnapshotsRequest req;
    req.set_snapshotter(t_.snapshotter);
    for (const auto& f : filters) req.add_filters(f);
    auto ctx = Context();
    auto reader = stub_->List(ctx.get(), req);
    pb::ListSnapshotsResponse resp;
    std::vector<std::string> names;
    while (reader->Read(&resp)) {
      for (const auto& i : resp.info()) names.push_back(absl::StrCat(i.name(), ":", KindText(i.kind())));
    }
    auto s = reader->Finish();
    std::sort(names.begin(), names.end());
    Log(absl::StrCat("List([", absl::StrJoin(filters, " | "), "]) -> ", CodeName(s), " ",
                     absl::StrJoin(names, " ")));
  }
  void Cleanup() {
    pb::CleanupRequest req;
    google::protobuf::Empty resp;
    req.set_snapshotter(t_.snapshotter);
    Log(absl::StrCat("Cleanup() -> ", CodeName(stub_->Cleanup(Context().get(), req, &resp))));
  }
  // Mounts, writes `write` files (name=content) and reports the `read` files' contents.
  template <typename Mounts>
  void Use(const std::string& what, const Mounts& mounts, const std::vector<std::string>& read,
           const Labels& write = {}) {
    fs::path target = t_.scratch / ("mnt-" + std::to_string(out_.size()));
    ScopedMount m(mounts, target);
    if (!m.error().empty()) {
      Log(absl::StrCat("use ", what, ": ", m.error()));
      return;
    }
    std::vector<std::string> seen;
    for (const auto& f : read) {
      std::ifstream in(target / f);
      std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      seen.push_back(absl::StrCat(f, "=", in ? content : std::string("<missing>")));
    }
    for (const auto& [f, content] : write) {
      fs::create_directories((target / f).parent_path());
      std::ofstream o(target / f);
      o << content;
      seen.push_back(absl::StrCat("wrote ", f, o ? "" : " FAILED"));
    }
    Log(absl::StrCat("use ", what, ": ", absl::StrJoin(seen, " ")));
  }

  // Through containerd, a lease holds what the suite creates, as it holds an unpack in progress:
  // otherwise a garbage collection pass in the middle would remove unreferenced snapshots.
  bool CreateLease() {
    auto leases = containerd::services::leases::v1::Leases::NewStub(
        grpc::CreateChannel("unix:" + t_.socket, grpc::InsecureChannelCredentials()));
    containerd::services::leases::v1::CreateRequest req;
    containerd::services::leases::v1::CreateResponse resp;
    req.set_id("behaviour-suite-" + t_.snapshotter);
    auto ctx = Context();
    auto status = leases->Create(ctx.get(), req, &resp);
    if (!status.ok()) Log("lease create failed: " + status.error_message());
    lease_ = req.id();
    return status.ok();
  }
  void DeleteLease() {
    auto leases = containerd::services::leases::v1::Leases::NewStub(
        grpc::CreateChannel("unix:" + t_.socket, grpc::InsecureChannelCredentials()));
    containerd::services::leases::v1::DeleteRequest req;
    google::protobuf::Empty resp;
    req.set_id(lease_);
    req.set_sync(true);
    lease_.clear();
    auto ctx = Context();
    auto status = leases->Delete(ctx.get(), req, &resp);
    if (!status.ok()) Log("lease delete failed: " + status.error_message());
  }

 public:
  std::vector<std::string> RunWithLease() {
    if (t_.ns.empty()) return Run();
    if (!CreateLease()) return out_;
    Run();
    DeleteLease();
    return out_;
  }

 private:
  SnapshotsTarget t_;
  std::string lease_;
  std::unique_ptr<pb::Snapshots::Stub> stub_;
  std::vector<std::string> out_;
};

std::vector<std::string> Suite::Run() {
  const Labels labels_a = {{"containerd.io/snapshot/test", "a"}, {"containerd.io/snapshot/x", "1"}};
  // Base layer: an active snapshot without parent is a rw bind mount.
  pb::PrepareSnapshotResponse base;
  if (!Prepare("base", "", labels_a, &base).ok()) return out_;
  Use("base", base.mounts(), {},
      {{"a.txt", "layer a"}, {"dir/deep.txt", "deep"}, {"gone.txt", "to be deleted"}});
  Stat("base");
  Usage("base");
  Mounts("base");
  pb::PrepareSnapshotResponse dup;
  Prepare("base", "", {}, &dup);
  Commit("base-c", "base", labels_a);
  Stat("base");
  Stat("base-c");
  Usage("base-c");
  Mounts("base-c");
  Commit("base-c", "base", {});
  Commit("again", "missing-key", {});

  // Second layer on top: overlay with one lower dir; deletes a file of the base (whiteout).
  pb::PrepareSnapshotResponse child;
  Prepare("child", "base-c", {{"containerd.io/snapshot/test", "b"}}, &child);
  Use("child", child.mounts(), {"a.txt", "dir/deep.txt"}, {{"b.txt", "layer b"}});
  fs::path whiteout_target = t_.scratch / "whiteout";
  {
    ScopedMount m(child.mounts(), whiteout_target);
    Log(absl::StrCat("delete gone.txt through overlay: ",
                     m.error().empty() && fs::remove(whiteout_target / "gone.txt") ? "ok" : "failed"));
  }
  Usage("child");
  Stat("child");
  pb::PrepareSnapshotResponse bad;
  Prepare("on-active", "child", {}, &bad);
  Prepare("on-missing", "no-such-parent", {}, &bad);
  Commit("child-c", "child", {{"containerd.io/snapshot/test", "b"}, {"containerd.io/snapshot/y", "2"}});
  Stat("child-c");

  // Views: one parent is a ro bind mount, two parents an overlay with two lower dirs.
  pb::ViewSnapshotResponse view1, view2;
  View("view-base", "base-c", &view1);
  Use("view-base", view1.mounts(), {"a.txt", "b.txt"});
  View("view-child", "child-c", &view2);
  Use("view-child", view2.mounts(), {"a.txt", "b.txt", "dir/deep.txt", "gone.txt"});
  Stat("view-child");
  Mounts("view-child");
  Usage("view-child");
  Commit("view-c", "view-child", {});
  pb::ViewSnapshotResponse dup_view;
  View("view-child", "child-c", &dup_view);

  // Container-style rootfs over the two layers.
  pb::PrepareSnapshotResponse rootfs;
  Prepare("rootfs", "child-c", {}, &rootfs);
  Use("rootfs", rootfs.mounts(), {"a.txt", "b.txt", "gone.txt"}, {{"c.txt", "container"}});

  // Labels.
  Update("child-c", {{"containerd.io/snapshot/test", "c"}}, {"labels.containerd.io/snapshot/test"});
  Update("child-c", {}, {"labels.containerd.io/snapshot/y"});
  Update("child-c", {{"containerd.io/snapshot/z", "3"}}, {});
  Update("child-c", {{"containerd.io/snapshot/w", "4"}}, {"labels"});
  Update("child-c", {}, {"name"});
  Update("child-c", {}, {"parent"});
  Update("no-such", {{"containerd.io/snapshot/w", "4"}}, {"labels"});
  Stat("child-c");

  // List and filters.
  List({});
  List({"kind==committed"});
  List({"kind!=committed"});
  List({"parent==base-c"});
  List({"parent==\"\""});
  List({"name~=^view-"});
  List({"labels.\"containerd.io/snapshot/test\"==a"});
  List({"labels.\"containerd.io/snapshot/w\""});
  List({"kind==view,name==view-base"});
  List({"kind==view", "name==base-c"});

  // Removal: never below a child.
  Remove("base-c");
  Remove("child-c");
  Remove("view-base");
  Remove("view-child");
  Remove("rootfs");
  Remove("child-c");
  Remove("base-c");
  Remove("base-c");
  List({});
  Cleanup();
  return out_;
}

}  // namespace

std::vector<std::string> RunSnapshotsBehaviourSuite(const SnapshotsTarget& target) {
  fs::create_directories(target.scratch);
  return Suite(target).RunWithLease();
}

}  // namespace tide::testing
