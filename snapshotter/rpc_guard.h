#ifndef TIDE_SNAPSHOTTER_RPC_GUARD_H_
#define TIDE_SNAPSHOTTER_RPC_GUARD_H_

#include <grpcpp/grpcpp.h>

#include <exception>
#include <string_view>

namespace tide::snapshotter {

// The INTERNAL status for an exception that reached an RPC handler, logged. Never throws.
grpc::Status EscapedException(std::string_view rpc, const char* what) noexcept;

// Runs an RPC handler's body so that no exception leaves it: a failure inside one request (an
// allocation sized by hostile input, say) fails that request, not the daemon every mount depends on.
template <typename Body>
grpc::Status GuardRpc(std::string_view rpc, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    return EscapedException(rpc, e.what());
  } catch (...) {
    return EscapedException(rpc, "unknown exception");
  }
}

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_RPC_GUARD_H_
