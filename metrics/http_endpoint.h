#ifndef TIDE_METRICS_HTTP_ENDPOINT_H_
#define TIDE_METRICS_HTTP_ENDPOINT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace tide::metrics {

struct HttpReply {
  std::string content_type;
  std::string body;
};

// Answers a GET path, or nullopt for 404. Called on the endpoint's one thread.
using HttpHandler = std::function<std::optional<HttpReply>(std::string_view path)>;

// A minimal HTTP/1.1 server for scrapes: one thread, one request per connection, GET only, request
// heads bounded (8 KiB, 5 s), so a slow or hostile client costs at most a few seconds of scrapes.
class HttpEndpoint {
 public:
  // `address`: "HOST:PORT" (an IPv4 address; port 0 picks a free one).
  static absl::StatusOr<std::unique_ptr<HttpEndpoint>> Start(std::string_view address, HttpHandler handler);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  int port() const { return port_; }

 private:
  HttpEndpoint() = default;
  void Serve();
  void Answer(int fd);

  UniqueFd listener_;
  UniqueFd wake_read_, wake_write_;
  int port_ = 0;
  HttpHandler handler_;
  std::thread thread_;
};

}  // namespace tide::metrics

#endif  // TIDE_METRICS_HTTP_ENDPOINT_H_
