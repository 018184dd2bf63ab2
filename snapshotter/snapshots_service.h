#ifndef TIDE_SNAPSHOTTER_SNAPSHOTS_SERVICE_H_
#define TIDE_SNAPSHOTTER_SNAPSHOTS_SERVICE_H_

#include "containerd/services/snapshots/v1/snapshots.grpc.pb.h"
#include "snapshotter/snapshotter.h"

namespace tide::snapshotter {

// containerd.services.snapshots.v1.Snapshots over a Snapshotter. The `snapshotter` request field and
// the containerd-namespace header are ignored: keys already carry the namespace.
class SnapshotsService final : public containerd::services::snapshots::v1::Snapshots::Service {
 public:
  explicit SnapshotsService(Snapshotter* snapshotter) : snapshotter_(snapshotter) {}

  grpc::Status Prepare(grpc::ServerContext*,
                       const containerd::services::snapshots::v1::PrepareSnapshotRequest*,
                       containerd::services::snapshots::v1::PrepareSnapshotResponse*) override;
  grpc::Status View(grpc::ServerContext*, const containerd::services::snapshots::v1::ViewSnapshotRequest*,
                    containerd::services::snapshots::v1::ViewSnapshotResponse*) override;
  grpc::Status Mounts(grpc::ServerContext*, const containerd::services::snapshots::v1::MountsRequest*,
                      containerd::services::snapshots::v1::MountsResponse*) override;
  grpc::Status Commit(grpc::ServerContext*, const containerd::services::snapshots::v1::CommitSnapshotRequest*,
                      google::protobuf::Empty*) override;
  grpc::Status Remove(grpc::ServerContext*, const containerd::services::snapshots::v1::RemoveSnapshotRequest*,
                      google::protobuf::Empty*) override;
  grpc::Status Stat(grpc::ServerContext*, const containerd::services::snapshots::v1::StatSnapshotRequest*,
                    containerd::services::snapshots::v1::StatSnapshotResponse*) override;
  grpc::Status Update(grpc::ServerContext*, const containerd::services::snapshots::v1::UpdateSnapshotRequest*,
                      containerd::services::snapshots::v1::UpdateSnapshotResponse*) override;
  grpc::Status List(grpc::ServerContext*, const containerd::services::snapshots::v1::ListSnapshotsRequest*,
                    grpc::ServerWriter<containerd::services::snapshots::v1::ListSnapshotsResponse>*) override;
  grpc::Status Usage(grpc::ServerContext*, const containerd::services::snapshots::v1::UsageRequest*,
                     containerd::services::snapshots::v1::UsageResponse*) override;
  grpc::Status Cleanup(grpc::ServerContext*, const containerd::services::snapshots::v1::CleanupRequest*,
                       google::protobuf::Empty*) override;

 private:
  Snapshotter* snapshotter_;
};

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_SNAPSHOTS_SERVICE_H_
