#include "metrics/http_endpoint.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tide::metrics {
namespace {

constexpr size_t kMaxRequestHead = 8 << 10;
constexpr int kRequestTimeoutMs = 5000;

absl::Status Errno(std::string_view what) {
  return absl::InternalError(absl::StrCat(std::string(what), ": ", std::strerror(errno)));
}

void SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(std::string_view address,
                                                                  HttpHandler handler) {
  const size_t colon = address.rfind(':');
  int port = -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (colon == std::string_view::npos || !absl::SimpleAtoi(std::string(address.substr(colon + 1)), &port) ||
      port < 0 || port > 65535 ||
      ::inet_pton(AF_INET, std::string(address.substr(0, colon)).c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address \"", std::string(address), "\" is not IPV4-ADDRESS:PORT"));
  }
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::unique_ptr<HttpEndpoint> e(new HttpEndpoint());
  e->listener_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!e->listener_.valid()) return Errno("metrics socket");
  int one = 1;
  ::setsockopt(e->listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(e->listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Errno(absl::StrCat("bind metrics address ", std::string(address)));
  }
  if (::listen(e->listener_.get(), 16) != 0) return Errno("listen on metrics address");
  socklen_t len = sizeof(addr);
  ::getsockname(e->listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  e->port_ = ntohs(addr.sin_port);
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0) return Errno("metrics wake pipe");
  e->wake_read_ = UniqueFd(wake[0]);
  e->wake_write_ = UniqueFd(wake[1]);
  e->handler_ = std::move(handler);
  e->thread_ = std::thread([raw = e.get()] { raw->Serve(); });
  return e;
}

HttpEndpoint::~HttpEndpoint() {
  if (thread_.joinable()) {
    (void)!::write(wake_write_.get(), "x", 1);
    thread_.join();
  }
}

void HttpEndpoint::Serve() {
  while (true) {
    pollfd p[2] = {{listener_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0 && errno != EINTR) return;
    if (p[1].revents != 0) return;
    if ((p[0].revents & POLLIN) == 0) continue;
    UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (client.valid()) Answer(client.get());
  }
}

void HttpEndpoint::Answer(int fd) {
  std::string head;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kRequestTimeoutMs);
  char buf[1024];
  while (head.find("\r\n\r\n") == std::string::npos) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || head.size() > kMaxRequestHead) return;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return;
    head.append(buf, static_cast<size_t>(n));
  }
  // "GET /path HTTP/1.1"
  std::string_view line(head.data(), head.find("\r\n"));
  std::optional<HttpReply> reply;
  std::string status = "404 Not Found";
  if (line.starts_with("GET ")) {
    std::string_view target = line.substr(
        4, line.find(' ', 4) == std::string_view::npos ? std::string_view::npos : line.find(' ', 4) - 4);
    target = target.substr(0, target.find('?'));
    reply = handler_(target);
    if (reply) status = "200 OK";
  } else {
    status = "405 Method Not Allowed";
  }
  if (!reply) reply = HttpReply{"text/plain; charset=utf-8", status + "\n"};
  SendAll(fd, absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", reply->content_type,
                           "\r\nContent-Length: ", reply->body.size(), "\r\nConnection: close\r\n\r\n"));
  SendAll(fd, reply->body);
}

}  // namespace tide::metrics
