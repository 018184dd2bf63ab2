#include "snapshotter/cache_service.h"

#include "common/log.h"
#include "oci/platform.h"
#include "snapshotter/grpc_status.h"
#include "snapshotter/rpc_guard.h"
#include "warm/node_cache.h"

namespace tide::snapshotter {
namespace {

namespace pb = tide::cache::v1;

grpc::Status NoCache() {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "this tide-snapshotter serves no lazy layers");
}

}  // namespace

grpc::Status CacheService::Warm(grpc::ServerContext* context, const pb::WarmRequest* request,
                                grpc::ServerWriter<pb::WarmProgress>* writer) {
  return GuardRpc("Warm", [&] {
    if (cache_ == nullptr) return NoCache();
    warm::WarmRequest warm{request->reference(), request->all()};
    if (!request->platform().empty()) {
      auto platform = oci::Platform::Parse(request->platform());
      if (!platform.ok()) return ToGrpc(platform.status());
      warm.platform = *platform;
    }
    absl::Status st = cache_->Warm(warm, [&](const pb::WarmProgress& progress) {
      return !context->IsCancelled() && writer->Write(progress);
    });
    if (!st.ok()) log::Warn("warm failed", {{"image", request->reference()}, {"error", st.message()}});
    return ToGrpc(st);
  });
}

grpc::Status CacheService::Unpin(grpc::ServerContext* /*context*/, const pb::UnpinRequest* request,
                                 pb::UnpinResponse* /*response*/) {
  return GuardRpc(
      "Unpin", [&] { return cache_ == nullptr ? NoCache() : ToGrpc(cache_->Unpin(request->reference())); });
}

grpc::Status CacheService::List(grpc::ServerContext* /*context*/, const pb::ListRequest* /*request*/,
                                pb::ListResponse* response) {
  return GuardRpc("List", [&] {
    if (cache_ == nullptr) return NoCache();
    *response = cache_->List();
    return grpc::Status::OK;
  });
}

}  // namespace tide::snapshotter
