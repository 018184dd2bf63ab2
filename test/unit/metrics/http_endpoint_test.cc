#include "metrics/http_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

namespace tide::metrics {
namespace {

// Sends `request` to 127.0.0.1:port and returns everything the server answers before it closes.
std::string Exchange(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string reply;
  char buf[4096];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return reply;
}

TEST_CASE("The metrics endpoint answers GET /metrics, 404 and 405 otherwise") {
  int calls = 0;
  auto endpoint = HttpEndpoint::Start("127.0.0.1:0", [&](std::string_view path) -> std::optional<HttpReply> {
    ++calls;
    if (path != "/metrics") return std::nullopt;
    return HttpReply{"text/plain; version=0.0.4", "tide_up 1\n"};
  });
  REQUIRE(endpoint.ok());
  const int port = (*endpoint)->port();
  REQUIRE(port > 0);
  std::string ok = Exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(ok.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(ok.find("Content-Type: text/plain; version=0.0.4\r\n") != std::string::npos);
  CHECK(ok.find("Content-Length: 10\r\n") != std::string::npos);
  CHECK(ok.substr(ok.size() - 10) == "tide_up 1\n");
  CHECK(Exchange(port, "GET /metrics?x=1 HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0);
  CHECK(Exchange(port, "GET /other HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0) == 0);
  CHECK(Exchange(port, "POST /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0) == 0);
  // A request head without end is cut off at its bound, unanswered, and the endpoint serves on.
  CHECK(Exchange(port, "GET /metrics HTTP/1.1\r\n" + std::string(20000, 'x')).empty());
  CHECK(Exchange(port, "GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0);
  CHECK(calls == 4);
}

TEST_CASE("A bad metrics address is an error naming it") {
  for (const char* bad : {"", "127.0.0.1", "localhost:80", "127.0.0.1:99999", "127.0.0.1:x", "[::1]:80"}) {
    auto endpoint = HttpEndpoint::Start(bad, [](std::string_view) { return std::optional<HttpReply>(); });
    REQUIRE_FALSE(endpoint.ok());
    CHECK(std::string(endpoint.status().message()).find("metrics address") != std::string::npos);
  }
}

}  // namespace
}  // namespace tide::metrics
