#ifndef TIDE_SNAPSHOTTER_SNAPSHOTTER_H_
#define TIDE_SNAPSHOTTER_SNAPSHOTTER_H_

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "metrics/text_writer.h"
#include "snapshotter/filter.h"
#include "snapshotter/metadata_store.h"
#include "snapshotter/mount_spec.h"
#include "snapshotter/remote_layer_mounter.h"
#include "snapshotter/root_lock.h"
#include "snapshotter/snapshot_info.h"

namespace tide::snapshotter {

// containerd's snapshotter semantics (those of its overlay snapshotter) over a metadata store and
// the directories root/snapshots/<id>/{fs,work}, plus remote layers through a RemoteLayerMounter.
// Errors carry containerd's codes: NotFound, AlreadyExists, FailedPrecondition, InvalidArgument,
// Unavailable (a lower remote layer is not mounted). Thread-safe.
class Snapshotter {
 public:
  // Opens or creates the state under the locked root, removes directories no committed row owns
  // (left by a crash) and restores the mounts of remote snapshots. Keeps the lock until destroyed.
  // `mounter` may be null: every layer is then an ordinary snapshot.
  static absl::StatusOr<std::unique_ptr<Snapshotter>> Open(RootLock root,
                                                           std::unique_ptr<RemoteLayerMounter> mounter);

  // AlreadyExists when the layer became a remote snapshot; otherwise the mounts.
  absl::StatusOr<std::vector<MountSpec>> Prepare(const std::string& key, const std::string& parent,
                                                 const Labels& labels);
  absl::StatusOr<std::vector<MountSpec>> View(const std::string& key, const std::string& parent,
                                              const Labels& labels);
  absl::StatusOr<std::vector<MountSpec>> Mounts(const std::string& key);
  absl::Status Commit(const std::string& name, const std::string& key, const Labels& labels);
  absl::Status Remove(const std::string& key);
  absl::StatusOr<SnapshotInfo> Stat(const std::string& key);
  // Field paths as in containerd: "labels", "labels.<key>"; none means all labels.
  absl::StatusOr<SnapshotInfo> Update(const SnapshotInfo& info, const std::vector<std::string>& fieldpaths);
  // Calls visit for every snapshot matching filter, in creation order.
  absl::Status List(const Filter& filter, const std::function<absl::Status(const SnapshotInfo&)>& visit);
  absl::StatusOr<Usage> GetUsage(const std::string& key);
  // Removes directories of removed or half-made snapshots.
  absl::Status Cleanup();
  // Snapshots by kind and the mounter's metrics, in the Prometheus text format (docs/metrics.md).
  void WriteMetrics(metrics::TextWriter& out);
  // The lazily mounted layers by image, as `tidectl status` shows them.
  nlohmann::json Status();
  // The mounter's node cache for the Cache API; null when it has none.
  warm::NodeCache* mounter_node_cache() { return mounter_ != nullptr ? mounter_->node_cache() : nullptr; }

  std::filesystem::path SnapshotDir(int64_t id) const;
  // The backend name a remote layer with target chainID `ref` on `parent` is committed under.
  static std::string RemoteSnapshotName(const std::string& ref, const std::string& parent);

 private:
  Snapshotter(RootLock root_lock, std::unique_ptr<MetadataStore> store,
              std::unique_ptr<RemoteLayerMounter> mounter);

  absl::StatusOr<SnapshotInfo> CreateLocked(Kind kind, const std::string& key, const std::string& parent,
                                            const Labels& labels);
  absl::StatusOr<std::vector<MountSpec>> MountsLocked(const SnapshotInfo& info);
  absl::StatusOr<std::vector<std::filesystem::path>> LowerDirsLocked(const std::string& parent);
  // The layer directories of the remote snapshots in `parent`'s chain, top first (takes mu_).
  std::vector<std::filesystem::path> RemoteLowers(const std::string& parent);
  // True when the mounter should be asked to serve this layer lazily.
  bool WantsRemote(const Labels& labels);
  enum class RemoteState { kAbsent, kHealthy, kBroken, kNeedsRestore };
  // Whether this layer (ref label + parent) is already a committed remote snapshot that can serve;
  // kNeedsRestore: it exists but its mount failed to restore at start-up (`existing` is set).
  RemoteState FindCommittedRemoteLocked(const std::string& key, const std::string& parent,
                                        const Labels& labels, SnapshotInfo* existing);
  // Retries the restore of `existing` with `lock` released (it may fetch from the registry);
  // kHealthy or kBroken.
  RemoteState RestoreUnlocked(std::unique_lock<std::mutex>& lock, const SnapshotInfo& existing);
  // Unmounts a remote snapshot's layer with `lock` released; meanwhile it is in removing_, so no
  // child can be made on it.
  absl::Status UnmountUnlocked(std::unique_lock<std::mutex>& lock, const SnapshotInfo& info);
  // Mounts the active snapshot's layer remotely and commits it; false means: fall back.
  absl::StatusOr<bool> TryCommitRemote(const SnapshotInfo& active, const std::string& parent,
                                       const Labels& labels);
  // Whether a layer whose content hashes to diff_id may be committed as chainID `ref` on `parent`
  // (snapshotter/content_binding.h).
  absl::Status CheckBindingLocked(const std::string& ref, const std::string& parent, const Digest& diff_id);
  absl::Status RemoveDirLocked(int64_t id);
  absl::Status RemoveOrphanDirsLocked();
  void RestoreRemoteLayersLocked();

  std::mutex mu_;
  // Declared first so it is released last, after the mounter and the store are closed.
  RootLock root_lock_;
  const std::filesystem::path root_;
  std::unique_ptr<MetadataStore> store_;
  std::unique_ptr<RemoteLayerMounter> mounter_;
  std::set<int64_t> unhealthy_;  // remote snapshots whose mount could not be restored
  // Mounter work on a remote snapshot runs without mu_ (it may wait on the registry or on readers
  // of an unmounting layer) so other RPCs do not queue behind it; these mark the snapshots it is
  // running on, and remote_cv_ signals when it ends.
  std::set<int64_t> restoring_;
  std::set<int64_t> removing_;
  std::condition_variable remote_cv_;
};

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_SNAPSHOTTER_H_
