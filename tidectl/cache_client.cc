#include "tidectl/cache_client.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"

namespace tide::tidectl {

std::unique_ptr<tide::cache::v1::Cache::Stub> ConnectCache(const std::string& socket) {
  return tide::cache::v1::Cache::NewStub(
      grpc::CreateChannel(absl::StrCat("unix:", socket), grpc::InsecureChannelCredentials()));
}

std::string DescribeCacheError(const std::string& socket, const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return absl::StrCat("cannot reach tide-snapshotter at ", socket, ": ", status.error_message(),
                        " (is it running? --address names its socket)");
  }
  return status.error_message();
}

}  // namespace tide::tidectl
