#ifndef TIDE_TEST_SUPPORT_REGISTRY_TEST_HTTP_SERVER_H_
#define TIDE_TEST_SUPPORT_REGISTRY_TEST_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace tide::testing {

struct TestHttpRequest {
  std::string method;
  std::string target;                          // path and query
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;

  std::string Header(const std::string& lower_name) const;
  std::string Path() const { return target.substr(0, target.find('?')); }
  // Values of a query parameter, URL-decoded, in order.
  std::vector<std::string> Query(const std::string& name) const;
};

struct TestHttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// A small HTTP/1.1 server on 127.0.0.1 (keep-alive, Content-Length bodies) for the test doubles
// that stand in for the outside world: a token server, object storage behind redirects, a
// redirecting or Range-ignoring front. Stops and joins its threads on destruction.
class TestHttpServer {
 public:
  using Handler = std::function<TestHttpResponse(const TestHttpRequest&)>;
  static absl::StatusOr<std::unique_ptr<TestHttpServer>> Start(Handler handler);
  ~TestHttpServer();

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  TestHttpServer() = default;
  void AcceptLoop();
  void Serve(int fd);

  Handler handler_;
  UniqueFd listen_fd_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<int> conn_fds_;
  std::vector<std::thread> conn_threads_;
};

std::string UrlDecode(const std::string& s);

}  // namespace tide::testing

#endif  // TIDE_TEST_SUPPORT_REGISTRY_TEST_HTTP_SERVER_H_
