#ifndef TIDE_SNAPSHOTTER_SERVER_H_
#define TIDE_SNAPSHOTTER_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tide::snapshotter {

// A gRPC server on a unix socket that only its owner may use (mode 0600, as containerd's own).
// A stale socket file at the path is replaced. Shutdown() (or destruction) stops it.
class UnixSocketServer {
 public:
  static absl::StatusOr<std::unique_ptr<UnixSocketServer>> Start(const std::string& path,
                                                                 grpc::Service* service);
  // Several services on the one socket (containerd's snapshots API and tide's own Cache API).
  static absl::StatusOr<std::unique_ptr<UnixSocketServer>> Start(const std::string& path,
                                                                 const std::vector<grpc::Service*>& services);
  ~UnixSocketServer();
  void Shutdown();
  void Wait();

 private:
  UnixSocketServer(std::string path, std::unique_ptr<grpc::Server> server)
      : path_(std::move(path)), server_(std::move(server)) {}
  std::string path_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_SERVER_H_
