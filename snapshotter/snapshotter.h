#ifndef TIDE_SNAPSHOTTER_SNAPSHOTTER_H_
#define TIDE_SNAPSHOTTER_SNAPSHOTTER_H_

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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
  // True when the mounter should be asked to serve this layer lazily.
  bool WantsRemote(const Labels& labels);
  enum class RemoteState { kAbsent, kHealthy, kBroken };
  // Whether this layer (ref label + parent) is already a committed remote snapshot that can serve.
  RemoteState FindCommittedRemoteLocked(const std::string& key, const std::string& parent,
                                        const Labels& labels);
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
};

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_SNAPSHOTTER_H_
