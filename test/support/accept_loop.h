#ifndef TIDE_TEST_SUPPORT_ACCEPT_LOOP_H_
#define TIDE_TEST_SUPPORT_ACCEPT_LOOP_H_

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "common/unique_fd.h"

namespace tide::testing {

// The listening half of the loopback servers tests start: accepts connections on 127.0.0.1 and
// serves each on its own thread with the owner's handler. Handlers watch stopping() and return
// once it is set; Stop() also shuts their sockets down so blocked reads return.
class AcceptLoop {
 public:
  using Handler = std::function<void(int fd)>;

  AcceptLoop() = default;
  AcceptLoop(const AcceptLoop&) = delete;
  AcceptLoop& operator=(const AcceptLoop&) = delete;
  ~AcceptLoop() { Stop(); }

  // Listens on a port the kernel picks and starts accepting.
  absl::Status Start(int backlog, Handler handler);
  // Stops accepting, ends and joins every handler, closes the connections left open. The owner
  // calls it first in its destructor, while what the handlers use is still alive.
  void Stop();
  // Closes a connection its handler is done with (otherwise Stop() closes it).
  void Close(int fd);

  int port() const { return port_; }
  const std::atomic<bool>& stopping() const { return stopping_; }

 private:
  void Run();

  Handler handler_;
  UniqueFd listen_fd_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<int> fds_;  // -1 once closed
  std::vector<std::thread> threads_;
};

}  // namespace tide::testing

#endif  // TIDE_TEST_SUPPORT_ACCEPT_LOOP_H_
