#include "containerd_client/containerd_client.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide::containerd_client {
namespace {

namespace content = containerd::services::content::v1;
namespace snapshots = containerd::services::snapshots::v1;
namespace images = containerd::services::images::v1;
namespace leases = containerd::services::leases::v1;
namespace diff = containerd::services::diff::v1;

// containerd's own limit on messages in each direction.
constexpr int kMaxMessageBytes = 16 << 20;

absl::StatusCode ToAbslCode(grpc::StatusCode code) {
  // Both enumerations follow google.rpc.Code.
  return static_cast<absl::StatusCode>(static_cast<int>(code));
}

}  // namespace

absl::Status FromGrpc(const grpc::Status& status, std::string_view what) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(Sv(what), ": ", status.error_message());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE)
    absl::StrAppend(&message, " (is containerd running?)");
  return absl::Status(ToAbslCode(status.error_code()), message);
}

absl::StatusOr<std::unique_ptr<ContainerdClient>> ContainerdClient::Connect(const std::string& address,
                                                                            const std::string& ns) {
  if (address.empty()) return absl::InvalidArgumentError("containerd address is empty");
  if (ns.empty()) return absl::InvalidArgumentError("containerd namespace is empty");
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  std::string path = address.starts_with("unix://") ? address.substr(7) : address;
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return absl::UnavailableError(absl::StrCat("cannot connect to containerd at ", address,
                                               ": no such socket (is containerd running? see --address)"));
  }
  // gRPC wants unix:///abs/path; a relative path would be read as an authority.
  std::string target = "unix://" + std::filesystem::absolute(path, error).string();
  std::unique_ptr<ContainerdClient> client(new ContainerdClient());
  client->address_ = address;
  client->namespace_ = ns;
  client->channel_ = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  if (!client->channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    return absl::UnavailableError(absl::StrCat("cannot connect to containerd at ", address,
                                               " (no socket, or nothing answering on it)"));
  }
  client->content_ = content::Content::NewStub(client->channel_);
  client->snapshots_ = snapshots::Snapshots::NewStub(client->channel_);
  client->images_ = images::Images::NewStub(client->channel_);
  client->leases_ = leases::Leases::NewStub(client->channel_);
  client->diff_ = diff::Diff::NewStub(client->channel_);
  return client;
}

std::unique_ptr<grpc::ClientContext> ContainerdClient::NewContext(std::chrono::seconds timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("containerd-namespace", namespace_);
  if (!lease_.empty()) context->AddMetadata("containerd-lease", lease_);
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

absl::Status ContainerdClient::CreateLease(const std::string& id, const Labels& labels) {
  leases::CreateRequest request;
  request.set_id(id);
  request.mutable_labels()->insert(labels.begin(), labels.end());
  leases::CreateResponse response;
  auto context = NewContext();
  return FromGrpc(leases_->Create(context.get(), request, &response), absl::StrCat("create lease ", id));
}

absl::Status ContainerdClient::DeleteLease(const std::string& id, bool sync) {
  leases::DeleteRequest request;
  request.set_id(id);
  request.set_sync(sync);
  google::protobuf::Empty response;
  auto context = NewContext(std::chrono::seconds(300));
  return FromGrpc(leases_->Delete(context.get(), request, &response), absl::StrCat("delete lease ", id));
}

absl::StatusOr<content::Info> ContainerdClient::ContentInfo(const std::string& digest) {
  content::InfoRequest request;
  request.set_digest(digest);
  content::InfoResponse response;
  auto context = NewContext();
  absl::Status status =
      FromGrpc(content_->Info(context.get(), request, &response), absl::StrCat("content info ", digest));
  if (!status.ok()) return status;
  return response.info();
}

absl::Status ContainerdClient::UpdateContentLabels(const std::string& digest, const Labels& labels) {
  content::UpdateRequest request;
  request.mutable_info()->set_digest(digest);
  for (const auto& [key, value] : labels) {
    if (!value.empty()) (*request.mutable_info()->mutable_labels())[key] = value;
    request.mutable_update_mask()->add_paths("labels." + key);
  }
  content::UpdateResponse response;
  auto context = NewContext();
  return FromGrpc(content_->Update(context.get(), request, &response),
                  absl::StrCat("label content ", digest));
}

absl::StatusOr<snapshots::Info> ContainerdClient::StatSnapshot(const std::string& snapshotter,
                                                               const std::string& key) {
  snapshots::StatSnapshotRequest request;
  request.set_snapshotter(snapshotter);
  request.set_key(key);
  snapshots::StatSnapshotResponse response;
  auto context = NewContext();
  absl::Status status = FromGrpc(snapshots_->Stat(context.get(), request, &response),
                                 absl::StrCat("stat snapshot ", key, " in ", snapshotter));
  if (!status.ok()) return status;
  return response.info();
}

absl::StatusOr<std::vector<containerd::types::Mount>> ContainerdClient::PrepareSnapshot(
    const std::string& snapshotter, const std::string& key, const std::string& parent, const Labels& labels) {
  snapshots::PrepareSnapshotRequest request;
  request.set_snapshotter(snapshotter);
  request.set_key(key);
  request.set_parent(parent);
  request.mutable_labels()->insert(labels.begin(), labels.end());
  snapshots::PrepareSnapshotResponse response;
  // A lazy snapshotter mounts the layer (fetching its index) inside Prepare.
  auto context = NewContext(std::chrono::seconds(300));
  absl::Status status = FromGrpc(snapshots_->Prepare(context.get(), request, &response),
                                 absl::StrCat("prepare snapshot ", key, " in ", snapshotter));
  if (!status.ok()) return status;
  return std::vector<containerd::types::Mount>(response.mounts().begin(), response.mounts().end());
}

absl::Status ContainerdClient::CommitSnapshot(const std::string& snapshotter, const std::string& name,
                                              const std::string& key, const Labels& labels) {
  snapshots::CommitSnapshotRequest request;
  request.set_snapshotter(snapshotter);
  request.set_name(name);
  request.set_key(key);
  request.mutable_labels()->insert(labels.begin(), labels.end());
  google::protobuf::Empty response;
  auto context = NewContext(std::chrono::seconds(300));
  return FromGrpc(snapshots_->Commit(context.get(), request, &response),
                  absl::StrCat("commit snapshot ", name, " in ", snapshotter));
}

absl::Status ContainerdClient::RemoveSnapshot(const std::string& snapshotter, const std::string& key) {
  snapshots::RemoveSnapshotRequest request;
  request.set_snapshotter(snapshotter);
  request.set_key(key);
  google::protobuf::Empty response;
  auto context = NewContext();
  return FromGrpc(snapshots_->Remove(context.get(), request, &response),
                  absl::StrCat("remove snapshot ", key, " in ", snapshotter));
}

absl::StatusOr<containerd::types::Descriptor> ContainerdClient::Apply(
    const containerd::types::Descriptor& layer, const std::vector<containerd::types::Mount>& mounts) {
  diff::ApplyRequest request;
  *request.mutable_diff() = layer;
  for (const auto& mount : mounts) *request.add_mounts() = mount;
  diff::ApplyResponse response;
  // Unpacking a large layer takes as long as the disk needs.
  auto context = NewContext(std::chrono::seconds(3600));
  absl::Status status =
      FromGrpc(diff_->Apply(context.get(), request, &response), absl::StrCat("apply layer ", layer.digest()));
  if (!status.ok()) return status;
  return response.applied();
}

absl::StatusOr<images::Image> ContainerdClient::GetImage(const std::string& name) {
  images::GetImageRequest request;
  request.set_name(name);
  images::GetImageResponse response;
  auto context = NewContext();
  absl::Status status =
      FromGrpc(images_->Get(context.get(), request, &response), absl::StrCat("get image ", name));
  if (!status.ok()) return status;
  return response.image();
}

absl::Status ContainerdClient::PutImage(const images::Image& image) {
  images::CreateImageRequest create;
  *create.mutable_image() = image;
  images::CreateImageResponse created;
  auto context = NewContext();
  grpc::Status status = images_->Create(context.get(), create, &created);
  if (status.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
    return FromGrpc(status, absl::StrCat("create image ", image.name()));
  }
  images::UpdateImageRequest update;
  *update.mutable_image() = image;
  update.mutable_update_mask()->add_paths("target");
  for (const auto& [key, value] : image.labels()) update.mutable_update_mask()->add_paths("labels." + key);
  images::UpdateImageResponse updated;
  auto update_context = NewContext();
  return FromGrpc(images_->Update(update_context.get(), update, &updated),
                  absl::StrCat("update image ", image.name()));
}

}  // namespace tide::containerd_client
