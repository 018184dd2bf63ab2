#include "snapshotter/snapshotter.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/atomic_file.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "snapshotter/disk_usage.h"
#include "snapshotter/remote_layer_labels.h"

namespace tide::snapshotter {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxLabelSize = 4096;  // containerd's labels.Validate limit for key + value

absl::Status ErrnoError(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

absl::Status ValidateLabels(const Labels& labels) {
  for (const auto& [key, value] : labels) {
    if (key.empty()) return absl::InvalidArgumentError("label key must not be empty");
    if (key.size() + value.size() > kMaxLabelSize) {
      return absl::InvalidArgumentError(absl::StrCat("label key and value greater than maximum size (",
                                                     kMaxLabelSize, " bytes), key: ", key.substr(0, 64)));
    }
  }
  return absl::OkStatus();
}

// Empty values are never stored (containerd drops them too).
Labels WithoutEmptyValues(Labels labels) {
  std::erase_if(labels, [](const auto& entry) { return entry.second.empty(); });
  return labels;
}

std::optional<std::string> SnapshotField(const SnapshotInfo& info, const std::vector<std::string>& path) {
  if (path.empty()) return std::nullopt;
  const std::string& field = path[0];
  if (field == "name") return info.name;
  if (field == "parent") return info.parent;
  if (field == "kind") return std::string(KindName(info.kind));
  if (field == "labels" && path.size() > 1 && !info.labels.empty()) {
    std::string key = path[1];
    for (size_t i = 2; i < path.size(); ++i) absl::StrAppend(&key, ".", path[i]);
    auto it = info.labels.find(key);
    if (it != info.labels.end()) return it->second;
  }
  return std::nullopt;
}

}  // namespace

Snapshotter::Snapshotter(RootLock root_lock, std::unique_ptr<MetadataStore> store,
                         std::unique_ptr<RemoteLayerMounter> mounter)
    : root_lock_(std::move(root_lock)),
      root_(root_lock_.root()),
      store_(std::move(store)),
      mounter_(std::move(mounter)) {}

absl::StatusOr<std::unique_ptr<Snapshotter>> Snapshotter::Open(RootLock root,
                                                               std::unique_ptr<RemoteLayerMounter> mounter) {
  fs::path snapshots = root.root() / "snapshots";
  std::error_code ec;
  fs::create_directories(snapshots, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", snapshots.string(), ": ", ec.message()));
  fs::permissions(snapshots, fs::perms::owner_all, ec);
  TIDE_ASSIGN_OR_RETURN(auto store, MetadataStore::Open(root.root() / "metadata.db"));
  std::unique_ptr<Snapshotter> s(new Snapshotter(std::move(root), std::move(store), std::move(mounter)));
  std::lock_guard lock(s->mu_);
  TIDE_RETURN_IF_ERROR(s->RemoveOrphanDirsLocked());
  s->RestoreRemoteLayersLocked();
  return s;
}

fs::path Snapshotter::SnapshotDir(int64_t id) const { return root_ / "snapshots" / std::to_string(id); }

absl::StatusOr<SnapshotInfo> Snapshotter::CreateLocked(Kind kind, const std::string& key,
                                                       const std::string& parent, const Labels& labels) {
  if (key.empty()) return absl::InvalidArgumentError("snapshot key must not be empty");
  TIDE_RETURN_IF_ERROR(ValidateLabels(labels));
  if (store_->Get(key).ok())
    return absl::AlreadyExistsError(absl::StrCat("snapshot ", key, ": already exists"));
  fs::path parent_fs;
  if (!parent.empty()) {
    auto p = store_->Get(parent);
    if (!p.ok()) return absl::NotFoundError(absl::StrCat("parent snapshot ", parent, " does not exist"));
    if (p->kind != Kind::kCommitted) {
      return absl::InvalidArgumentError(absl::StrCat("parent ", parent, " is not a committed snapshot"));
    }
    if (removing_.count(p->id) != 0) {
      return absl::FailedPreconditionError(absl::StrCat("parent snapshot ", parent, " is being removed"));
    }
    parent_fs = SnapshotDir(p->id) / "fs";
    // Fails (UNAVAILABLE) before anything is made when a lower remote layer is not mounted.
    TIDE_RETURN_IF_ERROR(LowerDirsLocked(parent).status());
  }
  // Made under a temporary name and renamed to its id before the row commits: a crash leaves
  // either a directory no row owns (removed on start) or both.
  std::string tmpl = (root_ / "snapshots" / "new-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return ErrnoError("create snapshot directory");
  fs::path tmp(tmpl);
  auto discard = [&tmp] {
    std::error_code ec;
    fs::remove_all(tmp, ec);
  };
  if (mkdir((tmp / "fs").c_str(), 0755) != 0 ||
      (kind == Kind::kActive && mkdir((tmp / "work").c_str(), 0711) != 0)) {
    absl::Status status = ErrnoError("create snapshot directory");
    discard();
    return status;
  }
  if (!parent_fs.empty()) {
    struct stat st;
    // The upper dir takes the owner of the parent's root, as in containerd, for user-namespaced images.
    if (stat(parent_fs.c_str(), &st) == 0) lchown((tmp / "fs").c_str(), st.st_uid, st.st_gid);
  }
  SnapshotInfo info;
  info.name = key;
  info.parent = parent;
  info.kind = kind;
  info.labels = WithoutEmptyValues(labels);
  info.created = info.updated = absl::Now();
  auto tx = store_->Begin();
  if (!tx.ok()) {
    discard();
    return tx.status();
  }
  auto id = store_->Insert(info);
  if (!id.ok()) {
    discard();
    return id.status();
  }
  info.id = *id;
  fs::path dir = SnapshotDir(info.id);
  if (rename(tmp.c_str(), dir.c_str()) != 0) {
    absl::Status status = ErrnoError(absl::StrCat("rename to ", dir.string()));
    discard();
    return status;
  }
  tmp = dir;  // from here discard() removes the final directory
  absl::Status status = SyncDirectory(root_ / "snapshots");
  if (status.ok()) status = tx->Commit();
  if (!status.ok()) {
    discard();
    return status;
  }
  return info;
}

absl::StatusOr<std::vector<fs::path>> Snapshotter::LowerDirsLocked(const std::string& parent) {
  std::vector<fs::path> lowers;
  std::string next = parent;
  while (!next.empty()) {
    TIDE_ASSIGN_OR_RETURN(SnapshotInfo p, store_->Get(next));
    if (unhealthy_.count(p.id) != 0) {
      return absl::UnavailableError(
          absl::StrCat("remote layer ", p.name, " is not mounted (restore failed)"));
    }
    const fs::path layer = SnapshotDir(p.id) / "fs";
    if (p.remote && mounter_ != nullptr) {
      for (fs::path& dir : mounter_->LowerDirs(layer)) lowers.push_back(std::move(dir));
    } else {
      lowers.push_back(layer);
    }
    next = p.parent;
  }
  return lowers;
}

absl::StatusOr<std::vector<MountSpec>> Snapshotter::MountsLocked(const SnapshotInfo& info) {
  TIDE_ASSIGN_OR_RETURN(auto lowers, LowerDirsLocked(info.parent));
  fs::path dir = SnapshotDir(info.id);
  return OverlayMounts(info.kind, dir / "fs", dir / "work", lowers);
}

absl::StatusOr<std::vector<MountSpec>> Snapshotter::Prepare(const std::string& key, const std::string& parent,
                                                            const Labels& labels) {
  bool remote = WantsRemote(labels);
  if (remote) {
    std::unique_lock lock(mu_);
    SnapshotInfo existing;
    RemoteState state = FindCommittedRemoteLocked(key, parent, labels, &existing);
    if (state == RemoteState::kNeedsRestore) state = RestoreUnlocked(lock, existing);
    switch (state) {
      case RemoteState::kHealthy:
        return absl::AlreadyExistsError(
            absl::StrCat("target snapshot ", labels.at(kSnapshotRefLabel), ": already exists"));
      case RemoteState::kBroken:
      case RemoteState::kNeedsRestore:
        remote = false;  // the name is taken by a snapshot that cannot serve: unpack this one locally
        break;
      case RemoteState::kAbsent:
        break;
    }
  }
  SnapshotInfo active;
  {
    std::lock_guard lock(mu_);
    TIDE_ASSIGN_OR_RETURN(active, CreateLocked(Kind::kActive, key, parent, labels));
    if (!remote) return MountsLocked(active);
  }
  // Mounting may fetch the layer's index from the registry, so it runs without the lock.
  auto committed = TryCommitRemote(active, parent, labels);
  if (!committed.ok()) return committed.status();
  if (*committed) {
    return absl::AlreadyExistsError(
        absl::StrCat("target snapshot ", labels.at(kSnapshotRefLabel), ": already exists"));
  }
  std::lock_guard lock(mu_);
  TIDE_ASSIGN_OR_RETURN(active, store_->Get(key));
  return MountsLocked(active);
}

absl::StatusOr<std::vector<MountSpec>> Snapshotter::View(const std::string& key, const std::string& parent,
                                                         const Labels& labels) {
  std::lock_guard lock(mu_);
  TIDE_ASSIGN_OR_RETURN(SnapshotInfo info, CreateLocked(Kind::kView, key, parent, labels));
  return MountsLocked(info);
}

absl::StatusOr<std::vector<MountSpec>> Snapshotter::Mounts(const std::string& key) {
  std::lock_guard lock(mu_);
  TIDE_ASSIGN_OR_RETURN(SnapshotInfo info, store_->Get(key));
  if (info.kind == Kind::kCommitted) {
    return absl::FailedPreconditionError(absl::StrCat("requested snapshot ", key, " not active or view"));
  }
  return MountsLocked(info);
}

absl::Status Snapshotter::Commit(const std::string& name, const std::string& key, const Labels& labels) {
  if (name.empty()) return absl::InvalidArgumentError("commit name must not be empty");
  TIDE_RETURN_IF_ERROR(ValidateLabels(labels));
  // The target name is checked before the key, in containerd's order (its bolt store creates the
  // new bucket first), so committing twice answers AlreadyExists.
  auto check = [&]() -> absl::StatusOr<SnapshotInfo> {
    if (store_->Get(name).ok())
      return absl::AlreadyExistsError(absl::StrCat("snapshot ", name, ": already exists"));
    TIDE_ASSIGN_OR_RETURN(SnapshotInfo info, store_->Get(key));
    if (info.kind != Kind::kActive) {
      return absl::FailedPreconditionError(absl::StrCat("snapshot ", key, " is not active"));
    }
    return info;
  };
  int64_t id = 0;
  {
    std::lock_guard lock(mu_);
    TIDE_ASSIGN_OR_RETURN(SnapshotInfo info, check());
    id = info.id;
  }
  // Walking a big layer takes a while; other snapshots need not wait for it.
  TIDE_ASSIGN_OR_RETURN(Usage usage, DiskUsage(SnapshotDir(id) / "fs"));
  std::lock_guard lock(mu_);
  TIDE_ASSIGN_OR_RETURN(SnapshotInfo info, check());
  if (info.id != id)
    return absl::NotFoundError(absl::StrCat("snapshot ", key, " was replaced during commit"));
  info.name = name;
  info.kind = Kind::kCommitted;
  info.labels = WithoutEmptyValues(labels);
  info.created = info.updated = absl::Now();
  info.size = usage.size;
  info.inodes = usage.inodes;
  TIDE_ASSIGN_OR_RETURN(auto tx, store_->Begin());
  TIDE_RETURN_IF_ERROR(store_->Save(info));
  return tx.Commit();
}

absl::Status Snapshotter::Remove(const std::string& key) {
  fs::path trash;
  {
    std::unique_lock lock(mu_);
    auto removable = [&]() -> absl::StatusOr<SnapshotInfo> {
      TIDE_ASSIGN_OR_RETURN(SnapshotInfo info, store_->Get(key));
      TIDE_ASSIGN_OR_RETURN(int64_t children, store_->CountChildren(key));
      if (children > 0) {
        return absl::FailedPreconditionError(absl::StrCat("cannot remove snapshot ", key, " with child"));
      }
      return info;
    };
    TIDE_ASSIGN_OR_RETURN(SnapshotInfo info, removable());
    if (info.remote && mounter_ != nullptr) {
      // Another Remove or a restore of it may be under way: wait for it, then look again.
      remote_cv_.wait(lock, [&] { return restoring_.count(info.id) == 0 && removing_.count(info.id) == 0; });
      TIDE_ASSIGN_OR_RETURN(info, removable());
      absl::Status status = UnmountUnlocked(lock, info);
      if (!status.ok()) {
        // FailedPrecondition lets containerd's GC carry on with other snapshots and retry later.
        return absl::FailedPreconditionError(
            absl::StrCat("unmount remote layer of ", key, ": ", status.message()));
      }
    }
    fs::path dir = SnapshotDir(info.id);
    TIDE_ASSIGN_OR_RETURN(auto tx, store_->Begin());
    TIDE_RETURN_IF_ERROR(store_->Delete(info.id));
    TIDE_RETURN_IF_ERROR(tx.Commit());
    unhealthy_.erase(info.id);
    // Out of the id namespace at once, deleted without the lock; a crash in between leaves an
    // orphan that start-up or Cleanup removes.
    trash = root_ / "snapshots" / absl::StrCat("rm-", info.id);
    if (rename(dir.c_str(), trash.c_str()) != 0) trash = dir;
  }
  umount2((trash / "fs").c_str(), MNT_DETACH);  // a dead mount left by a crash would stop the walk
  std::error_code ec;
  fs::remove_all(trash, ec);
  // The row is gone, so the snapshot is removed whatever happens to the directory.
  if (ec) log::Warn("snapshot directory not removed", {{"key", key}, {"error", ec.message()}});
  return absl::OkStatus();
}

absl::StatusOr<SnapshotInfo> Snapshotter::Stat(const std::string& key) {
  std::lock_guard lock(mu_);
  return store_->Get(key);
}

absl::StatusOr<SnapshotInfo> Snapshotter::Update(const SnapshotInfo& info,
                                                 const std::vector<std::string>& fieldpaths) {
  std::lock_guard lock(mu_);
  TIDE_ASSIGN_OR_RETURN(SnapshotInfo current, store_->Get(info.name));
  Labels labels = current.labels;
  if (fieldpaths.empty()) labels = info.labels;
  for (const std::string& path : fieldpaths) {
    if (path == "labels") {
      labels = info.labels;
    } else if (absl::StartsWith(path, "labels.")) {
      std::string key = path.substr(std::string_view("labels.").size());
      auto it = info.labels.find(key);
      if (it == info.labels.end() || it->second.empty()) {
        labels.erase(key);  // containerd's metadata layer sends deletions as paths without a value
      } else {
        labels[key] = it->second;
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot update \"", path, "\" field on snapshot \"", info.name, "\""));
    }
  }
  labels = WithoutEmptyValues(std::move(labels));
  TIDE_RETURN_IF_ERROR(ValidateLabels(labels));
  current.labels = std::move(labels);
  current.updated = absl::Now();
  TIDE_ASSIGN_OR_RETURN(auto tx, store_->Begin());
  TIDE_RETURN_IF_ERROR(store_->Save(current));
  TIDE_RETURN_IF_ERROR(tx.Commit());
  return current;
}

absl::Status Snapshotter::List(const Filter& filter,
                               const std::function<absl::Status(const SnapshotInfo&)>& visit) {
  std::vector<SnapshotInfo> all;
  {
    std::lock_guard lock(mu_);
    TIDE_ASSIGN_OR_RETURN(all, store_->List());
  }
  for (const SnapshotInfo& info : all) {
    if (!filter.Match([&info](const std::vector<std::string>& path) { return SnapshotField(info, path); })) {
      continue;
    }
    TIDE_RETURN_IF_ERROR(visit(info));
  }
  return absl::OkStatus();
}

absl::StatusOr<Usage> Snapshotter::GetUsage(const std::string& key) {
  SnapshotInfo info;
  {
    std::lock_guard lock(mu_);
    TIDE_ASSIGN_OR_RETURN(info, store_->Get(key));
  }
  if (info.kind != Kind::kActive) return Usage{info.size, info.inodes};
  auto usage = DiskUsage(SnapshotDir(info.id) / "fs");
  if (!usage.ok() && !Stat(key).ok())
    return absl::NotFoundError(absl::StrCat("snapshot ", key, " does not exist"));
  return usage;
}

absl::Status Snapshotter::Cleanup() {
  std::lock_guard lock(mu_);
  return RemoveOrphanDirsLocked();
}

absl::Status Snapshotter::RemoveDirLocked(int64_t id) {
  fs::path dir = SnapshotDir(id);
  // A dead FUSE mount left by a crash would make the walk fail; detach whatever is on fs first.
  umount2((dir / "fs").c_str(), MNT_DETACH);
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("remove ", dir.string(), ": ", ec.message()));
  return absl::OkStatus();
}

absl::Status Snapshotter::RemoveOrphanDirsLocked() {
  TIDE_ASSIGN_OR_RETURN(std::set<int64_t> ids, store_->Ids());
  std::error_code ec;
  std::vector<fs::path> orphans;
  for (const auto& entry : fs::directory_iterator(root_ / "snapshots", ec)) {
    int64_t id = 0;
    std::string name = entry.path().filename().string();
    if (absl::SimpleAtoi(name, &id) && ids.count(id) != 0) continue;
    orphans.push_back(entry.path());
  }
  if (ec)
    return absl::InternalError(absl::StrCat("list ", (root_ / "snapshots").string(), ": ", ec.message()));
  for (const fs::path& orphan : orphans) {
    log::Info("removing orphaned snapshot directory", {{"path", orphan.string()}});
    umount2((orphan / "fs").c_str(), MNT_DETACH);
    fs::remove_all(orphan, ec);
    if (ec) log::Warn("orphan not removed", {{"path", orphan.string()}, {"error", ec.message()}});
  }
  return absl::OkStatus();
}

}  // namespace tide::snapshotter

namespace tide::snapshotter {

void Snapshotter::WriteMetrics(metrics::TextWriter& out) {
  std::array<double, 3> by_kind{};
  double remote = 0;
  {
    std::lock_guard lock(mu_);
    auto all = store_->List();
    if (all.ok()) {
      for (const SnapshotInfo& info : *all) {
        by_kind[static_cast<size_t>(info.kind) - 1] += 1;  // kinds are 1..3
        remote += info.remote ? 1 : 0;
      }
    }
  }
  for (Kind kind : {Kind::kView, Kind::kActive, Kind::kCommitted}) {
    out.Gauge("tide_snapshots", "Snapshots in the metadata store, by kind",
              {{"kind", std::string(KindName(kind))}}, by_kind[static_cast<size_t>(kind) - 1]);
  }
  out.Gauge("tide_remote_snapshots", "Committed snapshots served lazily from the registry", {}, remote);
  if (mounter_ != nullptr) mounter_->WriteMetrics(out);
}

nlohmann::json Snapshotter::Status() {
  return mounter_ != nullptr ? mounter_->Status() : nlohmann::json{{"images", nlohmann::json::array()}};
}

}  // namespace tide::snapshotter
