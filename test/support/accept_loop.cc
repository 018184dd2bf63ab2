#include "test/support/accept_loop.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test/support/free_port.h"

namespace tide::testing {

absl::Status AcceptLoop::Start(int backlog, Handler handler) {
  auto listener = ListenOnLoopback(backlog);
  if (!listener.ok()) return listener.status();
  handler_ = std::move(handler);
  listen_fd_ = std::move(listener->fd);
  port_ = listener->port;
  accept_thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void AcceptLoop::Stop() {
  stopping_ = true;
  if (accept_thread_.joinable()) accept_thread_.join();
  {
    std::lock_guard lock(mu_);
    for (int fd : fds_) {
      if (fd >= 0) shutdown(fd, SHUT_RDWR);
    }
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
  for (int fd : fds_) {
    if (fd >= 0) close(fd);
  }
  fds_.clear();
}

void AcceptLoop::Close(int fd) {
  std::lock_guard lock(mu_);
  for (int& f : fds_) {
    if (f == fd) f = -1;
  }
  close(fd);
}

void AcceptLoop::Run() {
  while (!stopping_) {
    pollfd p{listen_fd_.get(), POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int fd = accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    fds_.push_back(fd);
    threads_.emplace_back([this, fd] { handler_(fd); });
  }
}

}  // namespace tide::testing
