#ifndef TIDE_TEST_SUPPORT_REGISTRY_TEST_HTTP_SERVER_H_
#define TIDE_TEST_SUPPORT_REGISTRY_TEST_HTTP_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "test/support/accept_loop.h"

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

  int port() const { return connections_.port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  std::string host() const { return "127.0.0.1:" + std::to_string(port()); }

 private:
  TestHttpServer() = default;
  void Serve(int fd);

  Handler handler_;
  AcceptLoop connections_;
};

std::string UrlDecode(const std::string& s);

}  // namespace tide::testing

#endif  // TIDE_TEST_SUPPORT_REGISTRY_TEST_HTTP_SERVER_H_
