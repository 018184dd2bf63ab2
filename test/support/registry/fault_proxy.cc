#include "test/support/registry/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string_view>
#include <thread>

namespace tide::testing {
namespace {

int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Reads until the end of one request's headers (or the peer gives up).
bool ReadRequestHead(int fd, const std::atomic<bool>& stopping) {
  std::string buf;
  char chunk[4096];
  while (!stopping && buf.find("\r\n\r\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
  }
  return !stopping;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FaultProxy>> FaultProxy::Start(int upstream_port, uint32_t seed) {
  std::unique_ptr<FaultProxy> p(new FaultProxy());
  p->upstream_port_ = upstream_port;
  p->rng_.seed(seed);
  absl::Status listening = p->connections_.Start(128, [raw = p.get()](int fd) { raw->Handle(fd); });
  if (!listening.ok()) return absl::InternalError("fault proxy: " + std::string(listening.message()));
  return p;
}

FaultProxy::~FaultProxy() { connections_.Stop(); }

void FaultProxy::SetFaultRate(double rate, std::vector<Fault> faults) {
  std::lock_guard lock(mu_);
  rate_ = rate;
  faults_ = std::move(faults);
  if (rate == 0) forced_.clear();
}

void FaultProxy::FailNextConnections(std::vector<Fault> faults) {
  std::lock_guard lock(mu_);
  forced_ = std::move(faults);
}

FaultCounts FaultProxy::counts() {
  std::lock_guard lock(mu_);
  return counts_;
}

void FaultProxy::Handle(int client_fd) {
  bool faulty = false;
  Fault fault = Fault::kReset;
  int64_t truncate_after = -1;
  {
    std::lock_guard lock(mu_);
    ++counts_.connections;
    if (!forced_.empty()) {
      faulty = true;
      fault = forced_.front();
      forced_.erase(forced_.begin());
    } else if (!faults_.empty() && std::uniform_real_distribution<double>(0, 1)(rng_) < rate_) {
      faulty = true;
      fault = faults_[std::uniform_int_distribution<size_t>(0, faults_.size() - 1)(rng_)];
    }
    if (faulty) {
      if (fault == Fault::kTruncate) truncate_after = std::uniform_int_distribution<int64_t>(1, 300000)(rng_);
    }
  }
  auto count = [&](int FaultCounts::*field) {
    std::lock_guard lock(mu_);
    ++(counts_.*field);
  };
  if (faulty && fault == Fault::kReset) {
    count(&FaultCounts::resets);
    ReadRequestHead(client_fd, connections_.stopping());
    linger l{1, 0};  // close with RST
    setsockopt(client_fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    connections_.Close(client_fd);
    return;
  }
  if (faulty && fault == Fault::kStall) {
    count(&FaultCounts::stalls);
    ReadRequestHead(client_fd, connections_.stopping());
    char sink[4096];
    while (!connections_.stopping()) {  // hold the connection open, answer nothing
      pollfd p{client_fd, POLLIN, 0};
      if (poll(&p, 1, 50) > 0 && recv(client_fd, sink, sizeof(sink), 0) <= 0) break;
    }
    connections_.Close(client_fd);
    return;
  }
  if (faulty && (fault == Fault::k503 || fault == Fault::k429)) {
    count(fault == Fault::k503 ? &FaultCounts::unavailable : &FaultCounts::too_many);
    if (!ReadRequestHead(client_fd, connections_.stopping())) {
      connections_.Close(client_fd);
      return;
    }
    const char* reply =
        fault == Fault::k503
            ? "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: "
              "close\r\n\r\n"
            : "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: "
              "close\r\n\r\n";
    SendAll(client_fd, reply, std::strlen(reply));
    connections_.Close(client_fd);
    return;
  }
  int upstream_fd = ConnectLoopback(upstream_port_);
  if (upstream_fd < 0) {
    connections_.Close(client_fd);
    return;
  }
  if (faulty) count(&FaultCounts::truncations);
  Forward(client_fd, upstream_fd, truncate_after);
  close(upstream_fd);
  connections_.Close(client_fd);
}

bool FaultProxy::Trickle(int to, const char* data, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    if (!SendAll(to, data + i, 1)) return false;
    for (int slept = 0; slept < 200; slept += 20) {
      if (connections_.stopping()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return true;
}

void FaultProxy::Forward(int client_fd, int upstream_fd, int64_t truncate_after) {
  char buf[65536];
  int64_t moved = 0;  // both directions, so uploads get cut midway too
  // Copies one read from `from` to `to`; false once the connection is done or cut.
  auto pump = [&](int from, int to) {
    ssize_t n = recv(from, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    size_t len = static_cast<size_t>(n);
    if (from == upstream_fd && trickle_) return Trickle(to, buf, len);
    if (truncate_after >= 0 && moved + n > truncate_after) {
      SendAll(to, buf, static_cast<size_t>(truncate_after - moved));
      return false;  // the caller closes mid-message
    }
    moved += n;
    return SendAll(to, buf, len);
  };
  const auto opened = std::chrono::steady_clock::now();
  while (!connections_.stopping()) {
    const int64_t lifetime = lifetime_ms_;
    if (lifetime > 0 && std::chrono::steady_clock::now() - opened > std::chrono::milliseconds(lifetime)) {
      {
        std::lock_guard lock(mu_);
        ++counts_.cut_open;
      }
      linger l{1, 0};
      setsockopt(client_fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
      return;
    }
    pollfd p[2] = {{client_fd, POLLIN, 0}, {upstream_fd, POLLIN, 0}};
    if (poll(p, 2, 50) <= 0) continue;
    if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(client_fd, upstream_fd)) return;
    if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(upstream_fd, client_fd)) return;
  }
}

}  // namespace tide::testing
