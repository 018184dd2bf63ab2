#ifndef TIDE_SNAPSHOTTER_CACHE_SERVICE_H_
#define TIDE_SNAPSHOTTER_CACHE_SERVICE_H_

#include "tide/cache/v1/cache.grpc.pb.h"

namespace tide::warm {
class NodeCache;
}

namespace tide::snapshotter {

// tide's Cache API (proto/tide/cache/v1/cache.proto) on the daemon's socket, answered by the
// mounter's NodeCache; a daemon that serves no lazy layers answers UNIMPLEMENTED.
class CacheService final : public tide::cache::v1::Cache::Service {
 public:
  explicit CacheService(warm::NodeCache* cache) : cache_(cache) {}

  grpc::Status Warm(grpc::ServerContext* context, const tide::cache::v1::WarmRequest* request,
                    grpc::ServerWriter<tide::cache::v1::WarmProgress>* writer) override;
  grpc::Status Unpin(grpc::ServerContext* context, const tide::cache::v1::UnpinRequest* request,
                     tide::cache::v1::UnpinResponse* response) override;
  grpc::Status List(grpc::ServerContext* context, const tide::cache::v1::ListRequest* request,
                    tide::cache::v1::ListResponse* response) override;

 private:
  warm::NodeCache* cache_;
};

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_CACHE_SERVICE_H_
