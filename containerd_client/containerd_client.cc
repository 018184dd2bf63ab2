#include "containerd_client/containerd_client.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
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

// One unary call with a fresh context (namespace, lease, a deadline `timeout` from now); an error
// names the call by `what`.
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> CallUnary(const ContainerdClient& client, Stub& stub,
                                   grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
                                   const Request& request, std::string_view what,
                                   std::chrono::seconds timeout = kDefaultCallTimeout) {
  Response response;
  auto context = client.NewContext(timeout);
  TIDE_RETURN_IF_ERROR(FromGrpc((stub.*rpc)(context.get(), request, &response), what));
  return response;
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
  return CallUnary(*this, *leases_, &leases::Leases::Stub::Create, request, absl::StrCat("create lease ", id))
      .status();
}

absl::Status ContainerdClient::DeleteLease(const std::string& id, bool sync) {
  leases::DeleteRequest request;
  request.set_id(id);
  request.set_sync(sync);
  return CallUnary(*this, *leases_, &leases::Leases::Stub::Delete, request, absl::StrCat("delete lease ", id),
                   std::chrono::seconds(300))
      .status();
}

absl::StatusOr<content::Info> ContainerdClient::ContentInfo(const std::string& digest) {
  content::InfoRequest request;
  request.set_digest(digest);
  TIDE_ASSIGN_OR_RETURN(content::InfoResponse response,
                        CallUnary(*this, *content_, &content::Content::Stub::Info, request,
                                  absl::StrCat("content info ", digest)));
  return response.info();
}

absl::Status ContainerdClient::UpdateContentLabels(const std::string& digest, const Labels& labels) {
  content::UpdateRequest request;
  request.mutable_info()->set_digest(digest);
  for (const auto& [key, value] : labels) {
    if (!value.empty()) (*request.mutable_info()->mutable_labels())[key] = value;
    request.mutable_update_mask()->add_paths("labels." + key);
  }
  return CallUnary(*this, *content_, &content::Content::Stub::Update, request,
                   absl::StrCat("label content ", digest))
      .status();
}

absl::StatusOr<snapshots::Info> ContainerdClient::StatSnapshot(const std::string& snapshotter,
                                                               const std::string& key) {
  snapshots::StatSnapshotRequest request;
  request.set_snapshotter(snapshotter);
  request.set_key(key);
  TIDE_ASSIGN_OR_RETURN(snapshots::StatSnapshotResponse response,
                        CallUnary(*this, *snapshots_, &snapshots::Snapshots::Stub::Stat, request,
                                  absl::StrCat("stat snapshot ", key, " in ", snapshotter)));
  return response.info();
}

absl::StatusOr<std::vector<containerd::types::Mount>> ContainerdClient::PrepareSnapshot(
    const std::string& snapshotter, const std::string& key, const std::string& parent, const Labels& labels) {
  snapshots::PrepareSnapshotRequest request;
  request.set_snapshotter(snapshotter);
  request.set_key(key);
  request.set_parent(parent);
  request.mutable_labels()->insert(labels.begin(), labels.end());
  // A lazy snapshotter mounts the layer (fetching its index) inside Prepare.
  TIDE_ASSIGN_OR_RETURN(
      snapshots::PrepareSnapshotResponse response,
      CallUnary(*this, *snapshots_, &snapshots::Snapshots::Stub::Prepare, request,
                absl::StrCat("prepare snapshot ", key, " in ", snapshotter), std::chrono::seconds(300)));
  return std::vector<containerd::types::Mount>(response.mounts().begin(), response.mounts().end());
}

absl::Status ContainerdClient::CommitSnapshot(const std::string& snapshotter, const std::string& name,
                                              const std::string& key, const Labels& labels) {
  snapshots::CommitSnapshotRequest request;
  request.set_snapshotter(snapshotter);
  request.set_name(name);
  request.set_key(key);
  request.mutable_labels()->insert(labels.begin(), labels.end());
  return CallUnary(*this, *snapshots_, &snapshots::Snapshots::Stub::Commit, request,
                   absl::StrCat("commit snapshot ", name, " in ", snapshotter), std::chrono::seconds(300))
      .status();
}

absl::Status ContainerdClient::RemoveSnapshot(const std::string& snapshotter, const std::string& key) {
  snapshots::RemoveSnapshotRequest request;
  request.set_snapshotter(snapshotter);
  request.set_key(key);
  return CallUnary(*this, *snapshots_, &snapshots::Snapshots::Stub::Remove, request,
                   absl::StrCat("remove snapshot ", key, " in ", snapshotter))
      .status();
}

absl::StatusOr<containerd::types::Descriptor> ContainerdClient::Apply(
    const containerd::types::Descriptor& layer, const std::vector<containerd::types::Mount>& mounts) {
  diff::ApplyRequest request;
  *request.mutable_diff() = layer;
  for (const auto& mount : mounts) *request.add_mounts() = mount;
  // Unpacking a large layer takes as long as the disk needs.
  TIDE_ASSIGN_OR_RETURN(diff::ApplyResponse response,
                        CallUnary(*this, *diff_, &diff::Diff::Stub::Apply, request,
                                  absl::StrCat("apply layer ", layer.digest()), std::chrono::seconds(3600)));
  return response.applied();
}

absl::StatusOr<images::Image> ContainerdClient::GetImage(const std::string& name) {
  images::GetImageRequest request;
  request.set_name(name);
  TIDE_ASSIGN_OR_RETURN(
      images::GetImageResponse response,
      CallUnary(*this, *images_, &images::Images::Stub::Get, request, absl::StrCat("get image ", name)));
  return response.image();
}

absl::Status ContainerdClient::PutImage(const images::Image& image) {
  images::CreateImageRequest create;
  *create.mutable_image() = image;
  absl::Status created = CallUnary(*this, *images_, &images::Images::Stub::Create, create,
                                   absl::StrCat("create image ", image.name()))
                             .status();
  if (!absl::IsAlreadyExists(created)) return created;
  images::UpdateImageRequest update;
  *update.mutable_image() = image;
  update.mutable_update_mask()->add_paths("target");
  for (const auto& [key, value] : image.labels()) update.mutable_update_mask()->add_paths("labels." + key);
  return CallUnary(*this, *images_, &images::Images::Stub::Update, update,
                   absl::StrCat("update image ", image.name()))
      .status();
}

}  // namespace tide::containerd_client
