#ifndef TIDE_TEST_SUPPORT_NGINX_PROCESS_H_
#define TIDE_TEST_SUPPORT_NGINX_PROCESS_H_

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace tide::testing {

// Debian's nginx on 127.0.0.1, running the caching-mirror config an operator would run
// (examples/cluster/nginx-mirror.conf, its placeholders filled in) in front of `upstream_url`.
// One process (master_process off), so it needs no user switch and no world-readable dirs.
class NginxProcess {
 public:
  static absl::StatusOr<std::unique_ptr<NginxProcess>> Start(const std::filesystem::path& config_template,
                                                             const std::string& upstream_url);
  ~NginxProcess();

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  // The access log, one request a line in the template's "mirror" format.
  std::string AccessLog() const;
  // Lines of the access log for requests of blobs with this cache status (HIT, MISS, ...).
  int CountBlobRequests(const std::string& cache_status) const;
  // CountBlobRequests once it reaches `at_least`, or at `timeout`. nginx logs a request after it
  // has sent the response, so a client holding its bytes can be ahead of the log.
  int WaitForBlobRequests(const std::string& cache_status, int at_least,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  NginxProcess() = default;
  TempDir dir_{"tide-nginx"};
  std::optional<Subprocess> process_;
  int port_ = 0;
};

}  // namespace tide::testing

#endif  // TIDE_TEST_SUPPORT_NGINX_PROCESS_H_
