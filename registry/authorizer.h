#ifndef TIDE_REGISTRY_AUTHORIZER_H_
#define TIDE_REGISTRY_AUTHORIZER_H_

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "registry/credentials.h"
#include "registry/hosts_config.h"
#include "registry/http_transport.h"
#include "registry/retry_policy.h"

namespace tide::registry {

// Token scopes of one request, e.g. {"repository:a/b:pull"}; several for cross-repository mounts.
using Scopes = std::vector<std::string>;
std::string RepositoryScope(const std::string& repository, bool push);

// The bearer challenge an origin registry itself answers with, fetched without credentials.
struct OriginChallenge {
  RegistryHost host;  // the origin's own entry (scheme, TLS) from hosts.toml
  std::string realm;
  std::string service;
};
using OriginChallengeFn = std::function<absl::StatusOr<OriginChallenge>(const std::string& registry)>;

// Per-host authorization state: which scheme a host asked for, its basic credentials, and bearer
// tokens cached by scope until shortly before they expire. Thread-safe.
class Authorizer {
 public:
  Authorizer(CredentialStore* credentials, HttpTransport* transport, const RetryOptions* retry);

  // How to ask an origin registry for its challenge. With it, a mirror that passes its origin's
  // bearer challenge on (a caching proxy) gets a token bought with the origin's credentials, but
  // only when the realm and service it names are the ones the origin names itself: the secret then
  // goes only where it would go without the mirror, and the mirror sees just a scoped token.
  void SetOriginChallenge(OriginChallengeFn fn) { origin_challenge_ = std::move(fn); }

  // The Authorization header ("Authorization: ...") to send, or "" when the host has not asked for
  // any. Renews an expired bearer token first.
  absl::StatusOr<std::string> HeaderFor(const RegistryHost& host, const Scopes& scopes);

  // Learns from a 401: records the challenge and obtains a token or basic credentials so the
  // request can be retried. Errors (kUnauthenticated) when no credentials can satisfy it.
  // sent_header is the Authorization the failed request carried ("" for none).
  absl::Status OnUnauthorized(const RegistryHost& host, const HttpResponse& response, const Scopes& scopes,
                              const std::string& sent_header);

 private:
  struct Token {
    std::string header;
    std::chrono::steady_clock::time_point renew_at;
  };
  struct HostState {
    std::string scheme;  // "", "basic", "bearer"
    std::string realm;
    std::string service;
    std::string basic_header;
    std::map<std::string, Token> tokens;  // by joined scopes
  };

  // The header to send without fetching anything: "" when the host needs none yet, nullopt when a
  // bearer token must be (re)fetched.
  std::optional<std::string> CachedHeader(const std::string& host, const std::string& key);
  // The credentials a token request to `realm` for `host` may carry (empty: ask anonymously).
  absl::StatusOr<Credential> CredentialForRealm(const RegistryHost& host, const std::string& realm,
                                                const std::string& service);
  absl::StatusOr<Token> FetchToken(const RegistryHost& host, const std::string& realm,
                                   const std::string& service, const Scopes& scopes);

  CredentialStore* credentials_;
  OriginChallengeFn origin_challenge_;
  HttpTransport* transport_;
  const RetryOptions* retry_;
  std::mutex fetch_mu_;  // held across token fetches; never while holding mu_
  std::mutex mu_;
  std::map<std::string, HostState> hosts_;
};

}  // namespace tide::registry

#endif  // TIDE_REGISTRY_AUTHORIZER_H_
