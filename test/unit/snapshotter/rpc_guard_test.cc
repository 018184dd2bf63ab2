// One request's exception (an allocation sized by hostile input, say) must fail that request with
// INTERNAL, not terminate the daemon.

#include "snapshotter/rpc_guard.h"

#include <catch2/catch.hpp>
#include <new>
#include <stdexcept>

namespace tide::snapshotter {
namespace {

TEST_CASE("an exception in an RPC handler becomes INTERNAL") {
  grpc::Status s = GuardRpc("Prepare", []() -> grpc::Status { throw std::bad_alloc(); });
  CHECK(s.error_code() == grpc::StatusCode::INTERNAL);
  CHECK_THAT(s.error_message(), Catch::Contains("Prepare"));
  s = GuardRpc("Stat", []() -> grpc::Status { throw std::runtime_error("boom"); });
  CHECK(s.error_code() == grpc::StatusCode::INTERNAL);
  CHECK_THAT(s.error_message(), Catch::Contains("boom"));
  s = GuardRpc("List", []() -> grpc::Status { throw 7; });
  CHECK(s.error_code() == grpc::StatusCode::INTERNAL);
}

TEST_CASE("a handler that returns is passed through") {
  grpc::Status s = GuardRpc("Remove", [] { return grpc::Status(grpc::StatusCode::NOT_FOUND, "nope"); });
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message() == "nope");
}

}  // namespace
}  // namespace tide::snapshotter
