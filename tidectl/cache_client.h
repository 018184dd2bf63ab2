#ifndef TIDE_TIDECTL_CACHE_CLIENT_H_
#define TIDE_TIDECTL_CACHE_CLIENT_H_

#include <memory>
#include <string>

#include "tide/cache/v1/cache.grpc.pb.h"

namespace tide::tidectl {

// The socket tide-snapshotter serves on by default (its `address` config key).
inline constexpr const char* kDefaultSnapshotterSocket = "/run/tide-snapshotter/tide-snapshotter.sock";

// A stub for tide-snapshotter's Cache API on its unix socket.
std::unique_ptr<tide::cache::v1::Cache::Stub> ConnectCache(const std::string& socket);

// "cannot reach tide-snapshotter at SOCKET: ..." or the daemon's own message.
std::string DescribeCacheError(const std::string& socket, const grpc::Status& status);

}  // namespace tide::tidectl

#endif  // TIDE_TIDECTL_CACHE_CLIENT_H_
