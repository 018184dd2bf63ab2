#include "test/e2e/pull/cri_client.h"

#include "absl/strings/str_cat.h"
#include "containerd_client/containerd_client.h"

namespace tide::testing {
namespace {

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
  return context;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CriImageClient>> CriImageClient::Connect(const std::string& socket) {
  auto channel = grpc::CreateChannel("unix://" + socket, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    return absl::UnavailableError(absl::StrCat("CRI socket ", socket, " does not answer"));
  }
  auto client = std::make_unique<CriImageClient>();
  client->stub_ = runtime::v1::ImageService::NewStub(channel);
  return client;
}

absl::StatusOr<std::string> CriImageClient::PullImage(const std::string& image) {
  runtime::v1::PullImageRequest request;
  request.mutable_image()->set_image(image);
  request.mutable_sandbox_config();
  runtime::v1::PullImageResponse response;
  auto context = Context();
  absl::Status status = containerd_client::FromGrpc(stub_->PullImage(context.get(), request, &response),
                                                    absl::StrCat("CRI pull ", image));
  if (!status.ok()) return status;
  return response.image_ref();
}

absl::StatusOr<std::optional<runtime::v1::Image>> CriImageClient::ImageStatus(const std::string& image) {
  runtime::v1::ImageStatusRequest request;
  request.mutable_image()->set_image(image);
  runtime::v1::ImageStatusResponse response;
  auto context = Context();
  absl::Status status = containerd_client::FromGrpc(stub_->ImageStatus(context.get(), request, &response),
                                                    absl::StrCat("CRI image status ", image));
  if (!status.ok()) return status;
  if (!response.has_image()) return std::optional<runtime::v1::Image>();
  return std::optional<runtime::v1::Image>(response.image());
}

absl::Status CriImageClient::RemoveImage(const std::string& image) {
  runtime::v1::RemoveImageRequest request;
  request.mutable_image()->set_image(image);
  runtime::v1::RemoveImageResponse response;
  auto context = Context();
  return containerd_client::FromGrpc(stub_->RemoveImage(context.get(), request, &response),
                                     absl::StrCat("CRI remove ", image));
}

}  // namespace tide::testing
