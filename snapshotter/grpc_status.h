#ifndef TIDE_SNAPSHOTTER_GRPC_STATUS_H_
#define TIDE_SNAPSHOTTER_GRPC_STATUS_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/status.h"

namespace tide::snapshotter {

// absl and gRPC share the canonical code numbers, so a status crosses the wire unchanged.
inline grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_GRPC_STATUS_H_
