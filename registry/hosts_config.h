#ifndef TIDE_REGISTRY_HOSTS_CONFIG_H_
#define TIDE_REGISTRY_HOSTS_CONFIG_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "registry/tls_config.h"

namespace tide::registry {

enum Capability : unsigned {
  kCapPull = 1,
  kCapResolve = 2,
  kCapPush = 4,
};

// One endpoint that can serve a registry's content: a mirror or the registry itself.
struct RegistryHost {
  std::string scheme = "https";
  std::string host;          // host[:port]
  std::string path = "/v2";  // API root, no trailing slash
  unsigned capabilities = kCapPull | kCapResolve | kCapPush;
  TlsConfig tls;
  std::vector<std::pair<std::string, std::string>> headers;
  // Mirrors get "?ns=<registry>" so one mirror can serve several upstreams (containerd does the same).
  std::string ns;

  std::string BaseUrl() const { return scheme + "://" + host + path; }
};

struct HostsOptions {
  std::string hosts_dir;    // containerd's certs.d layout: <dir>/<host>/hosts.toml; empty: none
  bool plain_http = false;  // talk http to the registry itself (--plain-http)
};

// The endpoints to try, in order, for a registry host ("docker.io", "127.0.0.1:5000"): the mirrors
// from <hosts_dir>/<host>/hosts.toml (or <hosts_dir>/_default/hosts.toml) followed by the server.
// A missing file means just the server; a malformed one is an error naming the file.
absl::StatusOr<std::vector<RegistryHost>> ConfigureHosts(std::string_view registry,
                                                         const HostsOptions& options);

// Parses hosts.toml text (exposed for tests). base_dir resolves relative certificate paths.
absl::StatusOr<std::vector<RegistryHost>> ParseHostsToml(std::string_view registry,
                                                         std::string_view toml_text,
                                                         const std::string& source_name,
                                                         const HostsOptions& options);

// The host[:port] the registry's own API lives at ("docker.io" -> "registry-1.docker.io").
std::string DefaultServerHost(std::string_view registry);

}  // namespace tide::registry

#endif  // TIDE_REGISTRY_HOSTS_CONFIG_H_
