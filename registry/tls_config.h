#ifndef TIDE_REGISTRY_TLS_CONFIG_H_
#define TIDE_REGISTRY_TLS_CONFIG_H_

#include <string>

namespace tide::registry {

// TLS settings for one registry host (from hosts.toml or options).
struct TlsConfig {
  bool skip_verify = false;
  // PEM bundle to trust instead of the system store; holds the system bundle too when a custom CA
  // was added, so a host's extra CA widens trust rather than replacing it (as containerd does).
  std::string ca_pem;
  std::string client_cert_path;
  std::string client_key_path;
};

}  // namespace tide::registry

#endif  // TIDE_REGISTRY_TLS_CONFIG_H_
