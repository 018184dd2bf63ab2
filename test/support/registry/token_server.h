#ifndef TIDE_TEST_SUPPORT_REGISTRY_TOKEN_SERVER_H_
#define TIDE_TEST_SUPPORT_REGISTRY_TOKEN_SERVER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "test/support/registry/test_http_server.h"

namespace tide::testing {

struct TokenServerOptions {
  std::string signing_key_path;   // RSA private key (PEM)
  std::string signing_cert_path;  // its certificate; docker-registry's rootcertbundle
  std::string issuer = "tide-test-issuer";
  std::string service = "tide-test-registry";
  std::string username;  // empty: anonymous tokens
  std::string password;
  std::string refresh_token;     // accepted by the OAuth2 POST form (docker's identity tokens)
  int expires_in = 300;          // advertised to the client
  int expired_first_tokens = 0;  // this many first tokens are already expired (beyond the registry's leeway)
};

// docker-registry's token auth counterpart: GET /token?service=..&scope=.. with optional basic
// auth answers {"token": <RS256 JWT>, "expires_in": ..} granting the requested actions. The JWT
// carries its certificate in x5c, which docker-registry verifies against the rootcertbundle.
class TokenServer {
 public:
  static absl::StatusOr<std::unique_ptr<TokenServer>> Start(const TokenServerOptions& options);

  std::string realm() const { return server_->url() + "/token"; }
  int token_requests() const { return requests_; }
  // Tokens issued from now on stop being accepted by docker-registry `seconds` after issue, while
  // the client is still told expires_in: a token that expires mid-run. 0: the normal lifetime.
  void SetRealLifetime(int seconds) { real_lifetime_ = seconds; }
  int refused() const { return refused_; }
  const TokenServerOptions& options() const { return options_; }

 private:
  TokenServer() = default;
  TestHttpResponse Handle(const TestHttpRequest& req);

  TokenServerOptions options_;
  std::string key_pem_;
  std::string cert_der_b64_;
  std::atomic<int> requests_{0};
  std::atomic<int> refused_{0};
  std::atomic<int> real_lifetime_{0};
  std::unique_ptr<TestHttpServer> server_;
};

}  // namespace tide::testing

#endif  // TIDE_TEST_SUPPORT_REGISTRY_TOKEN_SERVER_H_
