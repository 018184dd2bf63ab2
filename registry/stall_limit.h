#ifndef TIDE_REGISTRY_STALL_LIMIT_H_
#define TIDE_REGISTRY_STALL_LIMIT_H_

#include <chrono>

namespace tide::registry {

// How long an attempt may receive nothing before it is abandoned for a fresh connection.
//
// `configured` suits a transfer nobody waits on. A reader waits only until `deadline`, and a
// connection that stopped answering (a stale keep-alive connection, a black-holed path, a registry
// that hangs one request) would otherwise hold the read until it fails: a third of the time left
// lets at least one fresh attempt run, and a stall is told from a slow link by no byte at all.
// Never below a second (libcurl counts stalls in whole seconds).
std::chrono::milliseconds StallLimitWithin(std::chrono::milliseconds time_left);

// StallLimitWithin the time left before `deadline`, never above `configured`; `configured` for a
// transfer without a deadline.
std::chrono::milliseconds StallLimit(std::chrono::milliseconds configured,
                                     std::chrono::steady_clock::time_point deadline,
                                     std::chrono::steady_clock::time_point now);

}  // namespace tide::registry

#endif  // TIDE_REGISTRY_STALL_LIMIT_H_
