#ifndef TIDE_TEST_SUPPORT_REGISTRY_PROCESS_H_
#define TIDE_TEST_SUPPORT_REGISTRY_PROCESS_H_

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace tide::testing {

struct RegistryOptions {
  std::string htpasswd_path;  // enables basic auth
  std::string tls_cert_path;  // with tls_key_path: serve https
  std::string tls_key_path;
  std::string tls_client_ca_path;  // with TLS: require client certificates signed by this CA
  // Bearer token auth (docker-registry's "token" auth): realm URL, service, issuer and the
  // certificate bundle that signs tokens.
  std::string token_realm;
  std::string token_service;
  std::string token_issuer;
  std::string token_rootcert_path;
  // Proxy (pull-through cache) mode: the upstream registry URL.
  std::string proxy_remote_url;
};

// A real docker-registry (distribution 2.8) on 127.0.0.1 with storage in a private temp dir.
class RegistryProcess {
 public:
  static absl::StatusOr<std::unique_ptr<RegistryProcess>> Start(const RegistryOptions& options = {});
  ~RegistryProcess();

  // Stops docker-registry and starts it again on the same port, config and storage: a registry
  // restart (or upgrade) as clients see it, connections refused in between.
  absl::Status Restart();
  // Stops docker-registry for good: clients get connection refused from now on.
  void Stop();

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }  // host:port
  std::string url() const;                                                   // scheme://host:port
  const std::filesystem::path& dir() const { return dir_.path(); }
  const std::filesystem::path& log_path() const { return log_path_; }

 private:
  RegistryProcess() = default;
  absl::Status Launch();
  TempDir dir_{"tide-registry"};
  std::filesystem::path log_path_;
  std::optional<Subprocess> process_;
  int port_ = 0;
  bool tls_ = false;
};

}  // namespace tide::testing

#endif  // TIDE_TEST_SUPPORT_REGISTRY_PROCESS_H_
