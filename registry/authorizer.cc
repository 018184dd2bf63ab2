#include "registry/authorizer.h"

#include <curl/curl.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "registry/realm_policy.h"
#include "registry/www_authenticate.h"

namespace tide::registry {
namespace {

std::string UrlEscape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

std::string BasicHeader(const Credential& cred) {
  return absl::StrCat("Authorization: Basic ",
                      absl::Base64Escape(absl::StrCat(cred.username, ":", cred.password)));
}

}  // namespace

std::string RepositoryScope(const std::string& repository, bool push) {
  return absl::StrCat("repository:", repository, push ? ":pull,push" : ":pull");
}

Authorizer::Authorizer(CredentialStore* credentials, HttpTransport* transport, const RetryOptions* retry)
    : credentials_(credentials), transport_(transport), retry_(retry) {}

std::optional<std::string> Authorizer::CachedHeader(const std::string& host, const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return std::string();
  HostState& state = it->second;
  if (state.scheme == "basic") return state.basic_header;
  if (state.scheme != "bearer") return std::string();
  auto tok = state.tokens.find(key);
  if (tok != state.tokens.end() && std::chrono::steady_clock::now() < tok->second.renew_at) {
    return tok->second.header;
  }
  return std::nullopt;
}

absl::StatusOr<std::string> Authorizer::HeaderFor(const RegistryHost& host, const Scopes& scopes) {
  std::string key = absl::StrJoin(scopes, " ");
  if (auto cached = CachedHeader(host.host, key)) return *cached;
  // One renewal at a time, so concurrent readers share the token the first one fetched.
  std::lock_guard fetching(fetch_mu_);
  if (auto cached = CachedHeader(host.host, key)) return *cached;
  std::string realm, service;
  {
    std::lock_guard lock(mu_);
    realm = hosts_[host.host].realm;
    service = hosts_[host.host].service;
  }
  TIDE_ASSIGN_OR_RETURN(Token token, FetchToken(host, realm, service, scopes));
  std::lock_guard lock(mu_);
  hosts_[host.host].tokens[key] = token;
  return token.header;
}

absl::Status Authorizer::OnUnauthorized(const RegistryHost& host, const HttpResponse& response,
                                        const Scopes& scopes, const std::string& sent_header) {
  std::string key = absl::StrJoin(scopes, " ");
  std::lock_guard fetching(fetch_mu_);
  // Another request may have fixed authorization while this one waited for its 401.
  if (auto cached = CachedHeader(host.host, key); cached && !cached->empty() && *cached != sent_header) {
    return absl::OkStatus();
  }
  std::vector<AuthChallenge> challenges = ChallengesIn(response.headers);
  const AuthChallenge* bearer = nullptr;
  const AuthChallenge* basic = nullptr;
  for (const auto& c : challenges) {
    if (c.scheme == "bearer" && bearer == nullptr) bearer = &c;
    if (c.scheme == "basic" && basic == nullptr) basic = &c;
  }
  if (bearer != nullptr) {
    auto realm = bearer->params.find("realm");
    if (realm == bearer->params.end()) {
      return absl::UnauthenticatedError(absl::StrCat(host.host, " sent a bearer challenge without a realm"));
    }
    std::string service = bearer->params.contains("service") ? bearer->params.at("service") : "";
    TIDE_ASSIGN_OR_RETURN(Token token, FetchToken(host, realm->second, service, scopes));
    std::lock_guard lock(mu_);
    HostState& state = hosts_[host.host];
    state.scheme = "bearer";
    state.realm = realm->second;
    state.service = service;
    state.tokens[key] = std::move(token);
    return absl::OkStatus();
  }
  if (basic != nullptr) {
    TIDE_ASSIGN_OR_RETURN(Credential cred, credentials_->Lookup(host.host));
    if (cred.username.empty()) {
      return absl::UnauthenticatedError(
          absl::StrCat(host.host, " requires basic authentication and no credentials are configured for it"));
    }
    std::string header = BasicHeader(cred);
    std::lock_guard lock(mu_);
    HostState& state = hosts_[host.host];
    if (state.scheme == "basic" && state.basic_header == header) {
      return absl::UnauthenticatedError(
          absl::StrCat(host.host, " rejected the credentials of ", cred.Describe()));
    }
    state.scheme = "basic";
    state.basic_header = std::move(header);
    return absl::OkStatus();
  }
  return absl::UnauthenticatedError(
      absl::StrCat(host.host, " answered 401 without a usable WWW-Authenticate challenge"));
}

absl::StatusOr<Credential> Authorizer::CredentialForRealm(const RegistryHost& host, const std::string& realm,
                                                          const std::string& service) {
  TIDE_ASSIGN_OR_RETURN(Credential own, credentials_->Lookup(host.host));
  if (!own.empty()) {
    // The registry names the realm; its secrets go there only if realm_policy.h allows it.
    TIDE_RETURN_IF_ERROR(CheckRealmMayReceiveCredentials(host, realm));
    return own;
  }
  // A mirror without credentials of its own: maybe a proxy passing its origin's challenge on.
  if (host.ns.empty() || !origin_challenge_) return own;
  TIDE_ASSIGN_OR_RETURN(Credential origin_cred, credentials_->Lookup(host.ns));
  if (origin_cred.empty()) return origin_cred;
  absl::StatusOr<OriginChallenge> origin = origin_challenge_(host.ns);
  if (!origin.ok() || origin->realm != realm || origin->service != service) {
    log::Warn("mirror names a token realm its origin does not; asking it without the origin's credentials",
              {{"mirror", host.host},
               {"origin", host.ns},
               {"realm", realm},
               {"origin_realm", origin.ok() ? origin->realm : std::string(origin.status().message())}});
    return Credential{};
  }
  TIDE_RETURN_IF_ERROR(CheckRealmMayReceiveCredentials(origin->host, realm));
  return origin_cred;
}

absl::StatusOr<Authorizer::Token> Authorizer::FetchToken(const RegistryHost& host, const std::string& realm,
                                                         const std::string& service, const Scopes& scopes) {
  if (!realm.starts_with("https://") && !realm.starts_with("http://")) {
    return absl::UnauthenticatedError(
        absl::StrCat(host.host, " named a token realm that is not an http(s) URL"));
  }
  TIDE_ASSIGN_OR_RETURN(Credential cred, CredentialForRealm(host, realm, service));
  HttpRequest req;
  req.tls = &host.tls;
  std::string form;
  std::string query;
  if (!service.empty()) absl::StrAppend(&query, "service=", UrlEscape(service));
  for (const std::string& s : scopes)
    absl::StrAppend(&query, query.empty() ? "" : "&", "scope=", UrlEscape(s));
  if (!cred.identity_token.empty()) {
    // OAuth2 refresh-token grant, as docker does for identity tokens.
    req.method = "POST";
    form =
        absl::StrCat("grant_type=refresh_token&client_id=tide&refresh_token=", UrlEscape(cred.identity_token),
                     query.empty() ? "" : "&", query);
    req.body = form;
    req.url = realm;
    req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
  } else {
    req.url = absl::StrCat(realm, realm.find('?') == std::string::npos ? "?" : "&", query);
    if (!cred.username.empty()) req.headers.push_back(BasicHeader(cred));
  }
  std::string what =
      absl::StrCat("token for ", absl::StrJoin(scopes, " "), " from ", realm, " as ", cred.Describe());
  RetryState retry(*retry_);
  while (true) {
    auto resp = transport_->Perform(req);
    std::optional<std::chrono::milliseconds> after;
    if (resp.ok() && resp->status == 200) {
      nlohmann::json j = nlohmann::json::parse(resp->body, nullptr, false);
      std::string token;
      if (j.is_object()) token = j.value("token", j.value("access_token", ""));
      if (token.empty()) return absl::UnauthenticatedError(absl::StrCat(what, ": reply has no token"));
      int64_t expires_in = j.is_object() && j.contains("expires_in") && j["expires_in"].is_number()
                               ? j["expires_in"].get<int64_t>()
                               : 60;
      auto lifetime = std::chrono::milliseconds(std::max<int64_t>(expires_in, 1) * 1000);
      auto margin = std::min<std::chrono::milliseconds>(lifetime / 10, std::chrono::seconds(10));
      return Token{absl::StrCat("Authorization: Bearer ", token),
                   std::chrono::steady_clock::now() + lifetime - margin};
    }
    if (resp.ok() && resp->status != 429 && resp->status < 500) {
      return absl::UnauthenticatedError(absl::StrCat(what, ": HTTP ", resp->status));
    }
    if (resp.ok()) after = ParseRetryAfter(resp->Header("retry-after"));
    auto delay = retry.NextDelay(after);
    if (!delay) {
      return absl::UnavailableError(absl::StrCat(
          what, ": ", resp.ok() ? absl::StrCat("HTTP ", resp->status) : std::string(resp.status().message()),
          " after ", retry.attempts(), " attempts"));
    }
    std::this_thread::sleep_for(*delay);
  }
}

}  // namespace tide::registry
