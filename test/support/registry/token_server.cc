#include "test/support/registry/token_server.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "test/support/temp_dir.h"

namespace tide::testing {
namespace {

std::string B64Url(std::string_view data) {
  return absl::WebSafeBase64Escape(absl::string_view(data.data(), data.size()));
}

absl::StatusOr<std::string> SignRs256(const std::string& key_pem, const std::string& input) {
  BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return absl::InternalError("token server: bad signing key");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string sig;
  bool ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok) return absl::InternalError("token server: signing failed");
  return sig;
}

absl::StatusOr<std::string> CertDerBase64(const std::string& cert_pem) {
  BIO* bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return absl::InternalError("token server: bad certificate");
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  std::string out =
      absl::Base64Escape(absl::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(len)));
  OPENSSL_free(der);
  X509_free(cert);
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenServer>> TokenServer::Start(const TokenServerOptions& options) {
  std::unique_ptr<TokenServer> t(new TokenServer());
  t->options_ = options;
  t->key_pem_ = ReadFile(options.signing_key_path);
  auto der = CertDerBase64(ReadFile(options.signing_cert_path));
  if (!der.ok()) return der.status();
  t->cert_der_b64_ = *der;
  auto server =
      TestHttpServer::Start([raw = t.get()](const TestHttpRequest& req) { return raw->Handle(req); });
  if (!server.ok()) return server.status();
  t->server_ = std::move(*server);
  return t;
}

// docker-registry accepts a token this many seconds past its exp claim.
constexpr int64_t kRegistryLeeway = 60;

TestHttpResponse TokenServer::Handle(const TestHttpRequest& req) {
  if (req.Path() != "/token" || (req.method != "GET" && req.method != "POST")) return {404, {}, "not found"};
  int n = ++requests_;
  std::string subject = "anonymous";
  TestHttpRequest params = req;
  if (req.method == "POST") {
    // OAuth2 form: grant_type=refresh_token&refresh_token=..&service=..&scope=..
    params.target = "/token?" + req.body;
    auto grant = params.Query("grant_type");
    auto token = params.Query("refresh_token");
    if (grant.empty() || grant[0] != "refresh_token" || token.empty() || options_.refresh_token.empty() ||
        token[0] != options_.refresh_token) {
      ++refused_;
      return {401, {}, "{\"error\":\"invalid_grant\"}"};
    }
    subject = "identity-token-user";
  } else if (!options_.username.empty()) {
    std::string expected = "Basic " + absl::Base64Escape(options_.username + ":" + options_.password);
    if (req.Header("authorization") != expected) {
      ++refused_;
      return {401, {{"WWW-Authenticate", "Basic realm=\"token\""}}, "{\"details\":\"bad credentials\"}"};
    }
    subject = options_.username;
  }
  std::vector<std::string> services = params.Query("service");
  if (services.empty() || services[0] != options_.service)
    return {400, {}, "{\"details\":\"unknown service\"}"};
  nlohmann::json access = nlohmann::json::array();
  for (const std::string& scope_param : params.Query("scope")) {
    for (absl::string_view scope : absl::StrSplit(scope_param, ' ', absl::SkipEmpty())) {
      std::vector<std::string> parts = absl::StrSplit(scope, ':');
      if (parts.size() < 3) continue;
      std::string actions = parts.back();
      std::string name =
          std::string(scope.substr(parts[0].size() + 1, scope.size() - parts[0].size() - actions.size() - 2));
      access.push_back({{"type", parts[0]}, {"name", name}, {"actions", absl::StrSplit(actions, ',')}});
    }
  }
  int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  // docker-registry allows 60 s of clock leeway, so an "expired" token must be well past it.
  int64_t exp = n <= options_.expired_first_tokens ? now - 600 : now + std::max(options_.expires_in, 60) + 60;
  if (real_lifetime_ > 0 && n > options_.expired_first_tokens) exp = now + real_lifetime_ - kRegistryLeeway;
  nlohmann::json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"x5c", {cert_der_b64_}}};
  nlohmann::json claims = {
      {"iss", options_.issuer}, {"sub", subject},    {"aud", options_.service},         {"exp", exp},
      {"nbf", now - 1200},      {"iat", now - 1200}, {"jti", absl::StrCat("tide-", n)}, {"access", access}};
  std::string input = B64Url(header.dump()) + "." + B64Url(claims.dump());
  auto sig = SignRs256(key_pem_, input);
  if (!sig.ok()) return {500, {}, std::string(sig.status().message())};
  std::string token = input + "." + B64Url(*sig);
  nlohmann::json reply = {{"token", token}, {"access_token", token}, {"expires_in", options_.expires_in}};
  return {200, {{"Content-Type", "application/json"}}, reply.dump()};
}

}  // namespace tide::testing
