#ifndef TIDE_TEST_E2E_PULL_CRI_CLIENT_H_
#define TIDE_TEST_E2E_PULL_CRI_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "cri/runtime/v1/api.grpc.pb.h"

namespace tide::testing {

// A minimal CRI image-service client (what kubelet calls to pull), over containerd's socket.
class CriImageClient {
 public:
  static absl::StatusOr<std::unique_ptr<CriImageClient>> Connect(const std::string& socket);

  // Returns the image id CRI reports (the config digest).
  absl::StatusOr<std::string> PullImage(const std::string& image);
  // nullopt when CRI does not know the image.
  absl::StatusOr<std::optional<runtime::v1::Image>> ImageStatus(const std::string& image);
  absl::Status RemoveImage(const std::string& image);

 private:
  std::unique_ptr<runtime::v1::ImageService::Stub> stub_;
};

}  // namespace tide::testing

#endif  // TIDE_TEST_E2E_PULL_CRI_CLIENT_H_
