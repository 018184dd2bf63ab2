#ifndef TIDE_REGISTRY_CREDENTIALS_H_
#define TIDE_REGISTRY_CREDENTIALS_H_

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tide::registry {

// Secrets for one registry. Never logged: use Describe() in messages.
struct Credential {
  std::string username;
  std::string password;
  std::string identity_token;  // OAuth2 refresh token (docker login with an identity provider)

  bool empty() const { return username.empty() && password.empty() && identity_token.empty(); }
  std::string Describe() const;  // "user alice", "identity token", "anonymous"
};

struct CredentialOptions {
  // docker config.json; empty means $DOCKER_CONFIG/config.json or ~/.docker/config.json. A missing
  // file means anonymous access.
  std::string docker_config_path;
  // Explicit credentials by registry host ("docker.io", "127.0.0.1:5000"); they win over config.json.
  std::map<std::string, Credential> explicit_credentials;
  // Directory searched first for docker-credential-* helpers (tests); PATH otherwise.
  std::string helper_dir;
};

// Looks up credentials by registry host from explicit options, docker config.json `auths` (base64
// `auth`, `username`/`password`, `identitytoken`) and `credHelpers`/`credsStore` helper programs.
// Thread-safe; helper results are cached for the store's lifetime.
class CredentialStore {
 public:
  static absl::StatusOr<CredentialStore> Load(const CredentialOptions& options);
  CredentialStore(CredentialStore&& other) noexcept;

  // An empty Credential when none is configured. Errors only when a configured helper fails.
  absl::StatusOr<Credential> Lookup(std::string_view host);

 private:
  CredentialStore() = default;
  absl::StatusOr<Credential> RunHelper(const std::string& helper, std::string_view server_url) const;

  std::map<std::string, Credential> explicit_;
  std::map<std::string, Credential> auths_;
  std::map<std::string, std::string> cred_helpers_;
  std::string creds_store_;
  std::string helper_dir_;
  std::mutex mu_;
  std::map<std::string, Credential> helper_cache_;
};

// The config.json key form of a host: docker.io and its aliases map to Docker Hub's legacy key.
std::string NormalizeAuthKey(std::string_view key);

}  // namespace tide::registry

#endif  // TIDE_REGISTRY_CREDENTIALS_H_
