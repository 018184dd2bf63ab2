#ifndef TIDE_TEST_SUPPORT_FREE_PORT_H_
#define TIDE_TEST_SUPPORT_FREE_PORT_H_

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace tide::testing {

// A TCP port on 127.0.0.1 that was free when asked (bound and released by the kernel's choice).
int FreeLoopbackPort();
// A listening TCP socket on 127.0.0.1, on a port the kernel chose.
struct LoopbackListener {
  UniqueFd fd;
  int port = 0;
};
absl::StatusOr<LoopbackListener> ListenOnLoopback(int backlog);
// Polls until something accepts connections on 127.0.0.1:port.
bool WaitForPort(int port, std::chrono::milliseconds timeout);
// Polls until a unix socket at path accepts connections.
bool WaitForUnixSocket(const std::string& path, std::chrono::milliseconds timeout);

}  // namespace tide::testing

#endif  // TIDE_TEST_SUPPORT_FREE_PORT_H_
