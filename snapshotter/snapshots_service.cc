#include "snapshotter/snapshots_service.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "snapshotter/grpc_status.h"
#include "snapshotter/rpc_guard.h"

namespace tide::snapshotter {
namespace {

namespace pb = containerd::services::snapshots::v1;

constexpr int kListBatch = 100;  // containerd's own batch size for List streams

grpc::Status Failed(std::string_view rpc, const std::string& key, const absl::Status& status) {
  // Expected outcomes (remote layer, missing keys, children) are not worth more than debug.
  bool routine =
      absl::IsAlreadyExists(status) || absl::IsNotFound(status) || absl::IsFailedPrecondition(status);
  log::Write(routine ? log::Level::kDebug : log::Level::kError, "snapshot request failed",
             {{"rpc", rpc}, {"key", key}, {"error", status.message()}});
  return ToGrpc(status);
}

Labels ToLabels(const google::protobuf::Map<std::string, std::string>& map) {
  return Labels(map.begin(), map.end());
}

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  int64_t nanos = absl::ToUnixNanos(t);
  int64_t seconds = nanos / 1000000000;
  int64_t rem = nanos % 1000000000;
  if (rem < 0) {
    rem += 1000000000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rem));
}

void ToProto(const SnapshotInfo& info, pb::Info* out) {
  out->set_name(info.name);
  out->set_parent(info.parent);
  out->set_kind(static_cast<pb::Kind>(info.kind));
  SetTime(info.created, out->mutable_created_at());
  SetTime(info.updated, out->mutable_updated_at());
  out->mutable_labels()->insert(info.labels.begin(), info.labels.end());
}

template <typename Response>
void ToProto(const std::vector<MountSpec>& mounts, Response* out) {
  for (const MountSpec& m : mounts) {
    auto* mount = out->add_mounts();
    mount->set_type(m.type);
    mount->set_source(m.source);
    for (const auto& option : m.options) mount->add_options(option);
  }
}

}  // namespace

grpc::Status SnapshotsService::Prepare(grpc::ServerContext*, const pb::PrepareSnapshotRequest* request,
                                       pb::PrepareSnapshotResponse* response) {
  return GuardRpc("Prepare", [&]() -> grpc::Status {
    auto mounts = snapshotter_->Prepare(request->key(), request->parent(), ToLabels(request->labels()));
    if (!mounts.ok()) return Failed("Prepare", request->key(), mounts.status());
    log::Debug("prepared", {{"key", request->key()}, {"parent", request->parent()}});
    ToProto(*mounts, response);
    return grpc::Status::OK;
  });
}

grpc::Status SnapshotsService::View(grpc::ServerContext*, const pb::ViewSnapshotRequest* request,
                                    pb::ViewSnapshotResponse* response) {
  return GuardRpc("View", [&]() -> grpc::Status {
    auto mounts = snapshotter_->View(request->key(), request->parent(), ToLabels(request->labels()));
    if (!mounts.ok()) return Failed("View", request->key(), mounts.status());
    ToProto(*mounts, response);
    return grpc::Status::OK;
  });
}

grpc::Status SnapshotsService::Mounts(grpc::ServerContext*, const pb::MountsRequest* request,
                                      pb::MountsResponse* response) {
  return GuardRpc("Mounts", [&]() -> grpc::Status {
    auto mounts = snapshotter_->Mounts(request->key());
    if (!mounts.ok()) return Failed("Mounts", request->key(), mounts.status());
    ToProto(*mounts, response);
    return grpc::Status::OK;
  });
}

grpc::Status SnapshotsService::Commit(grpc::ServerContext*, const pb::CommitSnapshotRequest* request,
                                      google::protobuf::Empty*) {
  return GuardRpc("Commit", [&]() -> grpc::Status {
    absl::Status status = snapshotter_->Commit(request->name(), request->key(), ToLabels(request->labels()));
    if (!status.ok()) return Failed("Commit", request->key(), status);
    log::Debug("committed", {{"key", request->key()}, {"name", request->name()}});
    return grpc::Status::OK;
  });
}

grpc::Status SnapshotsService::Remove(grpc::ServerContext*, const pb::RemoveSnapshotRequest* request,
                                      google::protobuf::Empty*) {
  return GuardRpc("Remove", [&]() -> grpc::Status {
    absl::Status status = snapshotter_->Remove(request->key());
    if (!status.ok()) return Failed("Remove", request->key(), status);
    log::Debug("removed", {{"key", request->key()}});
    return grpc::Status::OK;
  });
}

grpc::Status SnapshotsService::Stat(grpc::ServerContext*, const pb::StatSnapshotRequest* request,
                                    pb::StatSnapshotResponse* response) {
  return GuardRpc("Stat", [&]() -> grpc::Status {
    auto info = snapshotter_->Stat(request->key());
    if (!info.ok()) return Failed("Stat", request->key(), info.status());
    ToProto(*info, response->mutable_info());
    return grpc::Status::OK;
  });
}

grpc::Status SnapshotsService::Update(grpc::ServerContext*, const pb::UpdateSnapshotRequest* request,
                                      pb::UpdateSnapshotResponse* response) {
  return GuardRpc("Update", [&]() -> grpc::Status {
    SnapshotInfo info;
    info.name = request->info().name();
    info.labels = ToLabels(request->info().labels());
    std::vector<std::string> paths(request->update_mask().paths().begin(),
                                   request->update_mask().paths().end());
    auto updated = snapshotter_->Update(info, paths);
    if (!updated.ok()) return Failed("Update", info.name, updated.status());
    ToProto(*updated, response->mutable_info());
    return grpc::Status::OK;
  });
}

grpc::Status SnapshotsService::List(grpc::ServerContext* context, const pb::ListSnapshotsRequest* request,
                                    grpc::ServerWriter<pb::ListSnapshotsResponse>* writer) {
  return GuardRpc("List", [&]() -> grpc::Status {
    auto filter = Filter::Parse({request->filters().begin(), request->filters().end()});
    if (!filter.ok()) return Failed("List", "", filter.status());
    pb::ListSnapshotsResponse batch;
    auto flush = [&]() -> absl::Status {
      if (batch.info_size() == 0) return absl::OkStatus();
      if (context->IsCancelled() || !writer->Write(batch))
        return absl::CancelledError("List stream closed by client");
      batch.Clear();
      return absl::OkStatus();
    };
    absl::Status status = snapshotter_->List(*filter, [&](const SnapshotInfo& info) -> absl::Status {
      ToProto(info, batch.add_info());
      return batch.info_size() >= kListBatch ? flush() : absl::OkStatus();
    });
    if (status.ok()) status = flush();
    if (!status.ok()) return Failed("List", "", status);
    return grpc::Status::OK;
  });
}

grpc::Status SnapshotsService::Usage(grpc::ServerContext*, const pb::UsageRequest* request,
                                     pb::UsageResponse* response) {
  return GuardRpc("Usage", [&]() -> grpc::Status {
    auto usage = snapshotter_->GetUsage(request->key());
    if (!usage.ok()) return Failed("Usage", request->key(), usage.status());
    response->set_size(usage->size);
    response->set_inodes(usage->inodes);
    return grpc::Status::OK;
  });
}

grpc::Status SnapshotsService::Cleanup(grpc::ServerContext*, const pb::CleanupRequest*,
                                       google::protobuf::Empty*) {
  return GuardRpc("Cleanup", [&]() -> grpc::Status {
    absl::Status status = snapshotter_->Cleanup();
    if (!status.ok()) return Failed("Cleanup", "", status);
    return grpc::Status::OK;
  });
}

}  // namespace tide::snapshotter
