// The remote-snapshot half of Snapshotter: turning a Prepare into a committed snapshot
// backed by a RemoteLayerMounter, and bringing those mounts back after a restart.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "snapshotter/content_binding.h"
#include "snapshotter/remote_layer_labels.h"
#include "snapshotter/restore_labels.h"
#include "snapshotter/snapshotter.h"

namespace tide::snapshotter {

std::string Snapshotter::RemoteSnapshotName(const std::string& ref, const std::string& parent) {
  // containerd finds the committed layer by (ref label, parent), so one chainID on two different
  // parents (one namespace unpacked a lower layer locally, another lazily) needs two names.
  std::string parent_hash = HexEncode(Sha256Of(parent)).substr(0, 16);
  return absl::StrCat("tide-remote/", ref, "/", parent_hash);
}

bool Snapshotter::WantsRemote(const Labels& labels) {
  if (mounter_ == nullptr || labels.count(kSnapshotRefLabel) == 0) return false;
  auto location = LocateRemoteLayer(labels);
  if (!location.ok()) {
    if (HasTideLabels(labels))
      log::Warn("tide layer cannot be located", {{"error", location.status().message()}});
    return false;
  }
  auto remote = mounter_->IsRemoteLayer(labels);
  if (!remote.ok()) {
    log::Warn("remote layer check failed, falling back",
              {{"ref", location->reference}, {"error", remote.status().message()}});
    return false;
  }
  return *remote;
}

Snapshotter::RemoteState Snapshotter::FindCommittedRemoteLocked(const std::string& key,
                                                                const std::string& parent,
                                                                const Labels& labels,
                                                                SnapshotInfo* existing_out) {
  std::string name = RemoteSnapshotName(labels.at(kSnapshotRefLabel), parent);
  auto existing = store_->Get(name);
  if (!existing.ok() || existing->kind != Kind::kCommitted || existing->parent != parent) {
    return RemoteState::kAbsent;
  }
  if (!SameRemoteLayer(existing->labels, labels)) {
    // Same chainID and parent, another blob: at most one of them is what the chainID stands for, and
    // the one already committed passed that check. Never swap one for the other; unpack this one.
    log::Warn("chainID already served by another layer blob, unpacking this one locally",
              {{"key", key}, {"name", name}});
    return RemoteState::kBroken;
  }
  if (removing_.count(existing->id) != 0) {
    log::Info("remote snapshot is being removed, not reused", {{"key", key}, {"name", name}});
    return RemoteState::kBroken;
  }
  if (mounter_->Poisoned(SnapshotDir(existing->id) / "fs")) {
    log::Error("remote snapshot failed verification, not reused", {{"key", key}, {"name", name}});
    return RemoteState::kBroken;
  }
  if (unhealthy_.count(existing->id) != 0) {
    // Its restore failed at start-up; a new pull of the layer is the moment to try again.
    *existing_out = *existing;
    return RemoteState::kNeedsRestore;
  }
  // Another namespace or a re-pull: both point containerd at the one backend snapshot.
  log::Info("remote snapshot already committed", {{"key", key}, {"name", name}});
  return RemoteState::kHealthy;
}

Snapshotter::RemoteState Snapshotter::RestoreUnlocked(std::unique_lock<std::mutex>& lock,
                                                      const SnapshotInfo& existing) {
  const int64_t id = existing.id;
  if (restoring_.count(id) == 0) {
    restoring_.insert(id);
    lock.unlock();
    absl::Status healed = mounter_->Restore(existing.labels, SnapshotDir(id) / "fs");
    lock.lock();
    restoring_.erase(id);
    remote_cv_.notify_all();
    log::Info("remote snapshot restore retried", {{"name", existing.name}, {"status", healed.ToString()}});
    // Remove waits for restoring_ to clear, so the row is still there.
    if (healed.ok()) unhealthy_.erase(id);
  } else {
    remote_cv_.wait(lock, [&] { return restoring_.count(id) == 0; });  // another pull is restoring it
  }
  auto now = store_->Get(existing.name);
  bool same = now.ok() && now->id == id && removing_.count(id) == 0;
  return same && unhealthy_.count(id) == 0 ? RemoteState::kHealthy : RemoteState::kBroken;
}

absl::Status Snapshotter::UnmountUnlocked(std::unique_lock<std::mutex>& lock, const SnapshotInfo& info) {
  removing_.insert(info.id);
  lock.unlock();
  absl::Status status = mounter_->Unmount(SnapshotDir(info.id) / "fs");
  lock.lock();
  removing_.erase(info.id);
  remote_cv_.notify_all();
  return status;
}

std::vector<std::filesystem::path> Snapshotter::RemoteLowers(const std::string& parent) {
  std::vector<std::filesystem::path> lowers;
  std::lock_guard lock(mu_);
  for (std::string next = parent; !next.empty();) {
    absl::StatusOr<SnapshotInfo> p = store_->Get(next);
    if (!p.ok()) break;
    if (p->remote) lowers.push_back(SnapshotDir(p->id) / "fs");
    next = p->parent;
  }
  return lowers;
}

absl::StatusOr<bool> Snapshotter::TryCommitRemote(const SnapshotInfo& active, const std::string& parent,
                                                  const Labels& labels) {
  const std::string& ref = labels.at(kSnapshotRefLabel);
  std::filesystem::path layer = SnapshotDir(active.id) / "fs";
  absl::Time start = absl::Now();
  absl::StatusOr<MountedLayer> mounted = mounter_->Mount(labels, layer, RemoteLowers(parent));
  if (!mounted.ok()) {
    log::Warn("remote mount failed, falling back to an ordinary snapshot",
              {{"key", active.name}, {"ref", ref}, {"error", mounted.status().message()}});
    return false;
  }
  // Unmounting waits for the layer's FUSE session to end: never with mu_ held.
  std::unique_lock lock(mu_);
  absl::Status bound = CheckBindingLocked(ref, parent, mounted->diff_id);
  if (!bound.ok()) {
    lock.unlock();
    mounter_->Unmount(layer).IgnoreError();
    log::Warn("remote layer is not bound to its chainID, falling back to an ordinary snapshot",
              {{"key", active.name}, {"ref", ref}, {"error", bound.message()}});
    return false;
  }
  std::string name = RemoteSnapshotName(ref, parent);
  auto current = store_->Get(active.name);
  bool taken = store_->Get(name).ok();
  if (!current.ok() || taken) {
    // Removed meanwhile, or a concurrent Prepare of the same layer won: ours is not needed.
    lock.unlock();
    mounter_->Unmount(layer).IgnoreError();
    lock.lock();
    current = store_->Get(active.name);
    if (current.ok() && current->id == active.id) {
      TIDE_ASSIGN_OR_RETURN(auto tx, store_->Begin());
      TIDE_RETURN_IF_ERROR(store_->Delete(current->id));
      TIDE_RETURN_IF_ERROR(tx.Commit());
      RemoveDirLocked(current->id).IgnoreError();
    }
    if (!taken) return absl::NotFoundError(absl::StrCat("snapshot ", active.name, " removed while mounting"));
    return true;
  }
  SnapshotInfo info = *current;
  info.name = name;
  info.kind = Kind::kCommitted;
  info.labels = current->labels;
  DropRestoreLabels(info.labels);
  for (const auto& [key, value] : mounted->restore_labels) info.labels[key] = value;
  info.labels[kRemoteLabel] = kRemoteLabelValue;
  info.created = info.updated = absl::Now();
  info.remote = true;
  info.size = info.inodes = 0;  // the bytes live in the registry and the shared cache, not here
  auto tx = store_->Begin();
  absl::Status status = tx.ok() ? store_->Save(info) : tx.status();
  if (status.ok()) status = tx->Commit();
  if (!status.ok()) {
    lock.unlock();
    mounter_->Unmount(layer).IgnoreError();
    return status;
  }
  log::Info("remote snapshot committed", {{"key", active.name},
                                          {"name", name},
                                          {"parent", parent},
                                          {"mount_time", absl::FormatDuration(absl::Now() - start)}});
  return true;
}

absl::Status Snapshotter::CheckBindingLocked(const std::string& ref, const std::string& parent,
                                             const Digest& diff_id) {
  std::string parent_chain;
  if (!parent.empty()) {
    TIDE_ASSIGN_OR_RETURN(SnapshotInfo info, store_->Get(parent));
    TIDE_ASSIGN_OR_RETURN(parent_chain, ChainIdOfSnapshot(info));
  }
  return CheckChainBinding(ref, parent_chain, diff_id);
}

void Snapshotter::RestoreRemoteLayersLocked() {
  auto all = store_->List();
  if (!all.ok()) {
    log::Error("cannot list snapshots to restore remote layers", {{"error", all.status().message()}});
    return;
  }
  for (const SnapshotInfo& info : *all) {
    if (!info.remote) continue;
    std::filesystem::path layer = SnapshotDir(info.id) / "fs";
    absl::Status status = mounter_ != nullptr
                              ? mounter_->Restore(info.labels, layer)
                              : absl::FailedPreconditionError("no remote layer mounter configured");
    if (status.ok()) {
      log::Info("remote snapshot restored", {{"name", info.name}});
    } else {
      unhealthy_.insert(info.id);
      log::Error("remote snapshot not restored", {{"name", info.name}, {"error", status.message()}});
    }
  }
}

}  // namespace tide::snapshotter
