#include "registry/client_core.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "registry/content_range.h"
#include "registry/registry_metrics.h"
#include "registry/stall_limit.h"
#include "registry/www_authenticate.h"

namespace tide::registry {
namespace {

std::string_view Origin(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return url;
  size_t path = url.find('/', scheme_end + 3);
  return url.substr(0, path);
}

std::string ResolveLocation(std::string_view base, std::string_view location) {
  if (location.starts_with("http://") || location.starts_with("https://")) return std::string(location);
  if (location.starts_with("//")) return absl::StrCat(Sv(base.substr(0, base.find(':') + 1)), Sv(location));
  if (location.starts_with("/")) return absl::StrCat(Sv(Origin(base)), Sv(location));
  std::string_view dir = base.substr(0, base.find('?'));
  dir = dir.substr(0, dir.rfind('/') + 1);
  return absl::StrCat(Sv(dir), Sv(location));
}

bool IsRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// The first error of a registry's JSON error body, e.g. "BLOB_UNKNOWN: blob unknown to registry".
std::string RegistryErrorDetail(const HttpResponse& response) {
  if (response.body.empty() || response.body.front() != '{') return "";
  nlohmann::json j = nlohmann::json::parse(response.body, nullptr, false);
  if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array() || j["errors"].empty()) return "";
  const auto& e = j["errors"][0];
  if (!e.is_object()) return "";
  std::string code = e.value("code", "");
  std::string message =
      e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
  return absl::StrCat(": ", code, message.empty() ? "" : ": ", message);
}

absl::Status WithContext(const absl::Status& s, const RegistryHost& host, const RegistryCall& call) {
  return absl::Status(s.code(), absl::StrCat(call.method, " ", host.host, " ", call.what, ": ", s.message()));
}

bool ParseU64(std::string_view s, uint64_t& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Writes a ranged response into a caller buffer, checking the server answered the exact range.
class RangeHandler : public ResponseHandler {
 public:
  RangeHandler(uint64_t offset, std::span<char> out, const std::string* what, const RangeProgress* progress)
      : offset_(offset), out_(out), what_(what), progress_(progress) {}

  absl::Status OnHeaders(const HttpResponse& head) override {
    uint64_t want_start = offset_ + pos_;
    uint64_t want_end = offset_ + out_.size() - 1;
    if (head.status == 206) {
      std::optional<ContentRange> range = ParseContentRange(head.Header("content-range"));
      if (!range) {
        return absl::DataLossError(
            absl::StrCat(*what_, ": bad Content-Range \"", Sv(head.Header("content-range")), "\""));
      }
      const uint64_t start = range->first, end = range->last;
      if (start != want_start) {
        return absl::DataLossError(
            absl::StrCat(*what_, ": asked for bytes from ", want_start, ", got from ", start));
      }
      if (end != want_end) {
        if (end < want_end && range->total && want_end >= *range->total) {
          return absl::OutOfRangeError(absl::StrCat(*what_, ": range ", offset_, "+", out_.size(),
                                                    " ends beyond the blob's ", *range->total, " bytes"));
        }
        return absl::DataLossError(
            absl::StrCat(*what_, ": asked for bytes up to ", want_end, ", got up to ", end));
      }
      return absl::OkStatus();
    }
    uint64_t length = 0;
    if (want_start == 0 && ParseU64(head.Header("content-length"), length) && length == out_.size()) {
      return absl::OkStatus();  // the range is the whole blob
    }
    // Reading on would download the whole blob as if it were the range.
    return absl::FailedPreconditionError(
        absl::StrCat(*what_, ": server ignored the Range header (HTTP ", head.status, " instead of 206)"));
  }

  absl::Status OnData(std::string_view data) override {
    if (data.size() > out_.size() - pos_) {
      return absl::DataLossError(absl::StrCat(*what_, ": server sent more bytes than the range holds"));
    }
    std::memcpy(out_.data() + pos_, data.data(), data.size());
    pos_ += data.size();
    if (progress_ != nullptr && *progress_) return (*progress_)(pos_);
    return absl::OkStatus();
  }

  void AddRange(std::vector<std::string>& headers) const {
    headers.push_back(absl::StrCat("Range: bytes=", offset_ + pos_, "-", offset_ + out_.size() - 1));
  }
  bool complete() const { return pos_ == out_.size(); }

 private:
  uint64_t offset_;
  std::span<char> out_;
  size_t pos_ = 0;
  const std::string* what_;
  const RangeProgress* progress_;
};

}  // namespace

ClientCore::ClientCore(const RegistryClientOptions& options, CredentialStore credentials)
    : options_(options),
      transport_(
          TransportOptions{.connect_timeout = options.connect_timeout,
                           .low_speed_time = options.low_speed_time,
                           .user_agent = options.user_agent,
                           .max_body_bytes = std::max<size_t>(options.max_manifest_bytes, 1 << 20) + 1}),
      credentials_(std::move(credentials)),
      authorizer_(&credentials_, &transport_, &options_.retry) {
  authorizer_.SetOriginChallenge(
      [this](const std::string& registry) { return OriginChallengeFor(registry); });
}

absl::StatusOr<OriginChallenge> ClientCore::OriginChallengeFor(const std::string& registry) {
  {
    std::lock_guard lock(origin_mu_);
    auto it = origin_challenges_.find(registry);
    if (it != origin_challenges_.end()) return it->second;
  }
  TIDE_ASSIGN_OR_RETURN(auto hosts, Hosts(registry));
  if (hosts->empty() || !hosts->back().ns.empty()) {
    return absl::NotFoundError(absl::StrCat("no origin entry for ", registry));
  }
  const RegistryHost& origin = hosts->back();
  HttpRequest req;
  req.url = origin.BaseUrl() + "/";
  req.tls = &origin.tls;
  req.deadline = std::chrono::steady_clock::now() + options_.connect_timeout + options_.connect_timeout;
  TIDE_ASSIGN_OR_RETURN(HttpResponse resp, transport_.Perform(req));
  for (const AuthChallenge& c : ChallengesIn(resp.headers)) {
    auto realm = c.params.find("realm");
    if (c.scheme != "bearer" || realm == c.params.end()) continue;
    auto service = c.params.find("service");
    OriginChallenge found{origin, realm->second, service == c.params.end() ? "" : service->second};
    std::lock_guard lock(origin_mu_);
    origin_challenges_[registry] = found;
    return found;
  }
  return absl::NotFoundError(absl::StrCat(origin.host, " answered GET ", origin.path, "/ with HTTP ",
                                          resp.status, " and no bearer challenge"));
}

absl::StatusOr<std::shared_ptr<ClientCore>> ClientCore::Create(const RegistryClientOptions& options) {
  TIDE_ASSIGN_OR_RETURN(CredentialStore creds, CredentialStore::Load(CredentialOptions{
                                                   .docker_config_path = options.docker_config_path,
                                                   .explicit_credentials = options.credentials,
                                                   .helper_dir = options.credential_helper_dir}));
  return std::shared_ptr<ClientCore>(new ClientCore(options, std::move(creds)));
}

absl::StatusOr<std::shared_ptr<const std::vector<RegistryHost>>> ClientCore::Hosts(
    const std::string& registry) {
  std::lock_guard lock(hosts_mu_);
  auto it = hosts_.find(registry);
  if (it != hosts_.end()) return it->second;
  TIDE_ASSIGN_OR_RETURN(std::vector<RegistryHost> hosts,
                        ConfigureHosts(registry, HostsOptions{options_.hosts_dir, options_.plain_http}));
  auto shared = std::make_shared<const std::vector<RegistryHost>>(std::move(hosts));
  hosts_[registry] = shared;
  return shared;
}

namespace {
constexpr std::chrono::seconds kHostCoolDown{30};
}  // namespace

bool ClientCore::CoolingDown(const RegistryHost& host) {
  std::lock_guard lock(health_mu_);
  auto it = cool_until_.find(host.BaseUrl());
  return it != cool_until_.end() && std::chrono::steady_clock::now() < it->second;
}

void ClientCore::MarkHealth(const RegistryHost& host, bool healthy) {
  std::lock_guard lock(health_mu_);
  if (healthy) {
    cool_until_.erase(host.BaseUrl());
  } else {
    cool_until_[host.BaseUrl()] = std::chrono::steady_clock::now() + kHostCoolDown;
  }
}

bool ClientCore::HostFailoverWorthy(const absl::Status& s) {
  // Bad input fails on every host; a caller that aborted or cancelled its read wants it to end.
  return s.code() != absl::StatusCode::kInvalidArgument && s.code() != absl::StatusCode::kOutOfRange &&
         s.code() != absl::StatusCode::kAborted && s.code() != absl::StatusCode::kCancelled;
}

std::string ClientCore::RepoUrl(const RegistryHost& host, const std::string& repository,
                                std::string_view suffix) {
  std::string url = absl::StrCat(host.BaseUrl(), "/", repository, Sv(suffix));
  if (!host.ns.empty())
    absl::StrAppend(&url, suffix.find('?') == std::string_view::npos ? "?" : "&", "ns=", host.ns);
  return url;
}

absl::Status ClientCore::HttpError(const RegistryHost& host, const RegistryCall& call,
                                   const HttpResponse& response) {
  std::string message = absl::StrCat(call.method, " ", host.host, " ", call.what, ": HTTP ", response.status,
                                     RegistryErrorDetail(response));
  switch (response.status) {
    case 400:
      return absl::InvalidArgumentError(message);
    case 401:
      return absl::UnauthenticatedError(message);
    case 403:
      return absl::PermissionDeniedError(message);
    case 404:
      return absl::NotFoundError(message);
    case 416:
      return absl::OutOfRangeError(message);
    case 429:
      return absl::UnavailableError(message);
    default:
      if (response.status >= 500) return absl::UnavailableError(message);
      return absl::UnknownError(message);
  }
}

absl::StatusOr<HttpResponse> ClientCore::Execute(const RegistryHost& host, RegistryCall& call) {
  RetryState retry(options_.retry);
  std::string host_origin = absl::StrCat(host.scheme, "://", host.host);
  std::string url = call.url;
  std::string method = call.method;
  int redirects = 0;
  int auth_rounds = 0;
  int broken_transfers = 0;
  // A host with a fallback gets half the time left, so the next host gets the other half.
  std::chrono::steady_clock::time_point deadline = call.deadline;
  if (call.has_fallback && deadline != kNoDeadline) {
    const auto now = std::chrono::steady_clock::now();
    if (deadline > now) deadline = now + (deadline - now) / 2;
  }
  const bool share_capped = deadline != call.deadline;
  // False when waiting `delay` would outlast the deadline: the caller gives up instead.
  auto restart = [&](std::optional<std::chrono::milliseconds> delay) {
    if (std::chrono::steady_clock::now() + *delay >= deadline) return false;
    std::this_thread::sleep_for(*delay);
    url = call.url;
    method = call.method;
    redirects = 0;
    return true;
  };
  // Out of time at this host. When only its share ran out, the next host still has time: that is
  // an unavailable host (cooled down by OnHosts), not the reader's deadline.
  auto past_deadline = [&](const std::string& last) {
    if (share_capped && std::chrono::steady_clock::now() < call.deadline) {
      return WithContext(
          absl::UnavailableError(absl::StrCat("no complete answer within its share of the read's time (",
                                              last, "); trying the next host")),
          host, call);
    }
    return WithContext(absl::DeadlineExceededError(absl::StrCat("no time left to retry: ", last)), host,
                       call);
  };
  while (true) {
    HttpRequest req;
    req.method = method;
    req.url = url;
    req.tls = &host.tls;
    req.headers = call.headers;
    req.deadline = deadline;
    req.low_speed_time = StallLimit(call.has_fallback ? options_.mirror_stall_time : options_.low_speed_time,
                                    deadline, std::chrono::steady_clock::now());
    if (method == call.method) {
      req.body = call.body;
      req.body_file = call.body_file;
      req.body_file_offset = call.body_file_offset;
      req.body_file_length = call.body_file_length;
    }
    bool same_origin = Origin(url) == host_origin;
    std::string sent_auth;
    if (same_origin) {
      for (const auto& [name, value] : host.headers) req.headers.push_back(absl::StrCat(name, ": ", value));
      auto auth = authorizer_.HeaderFor(host, call.scopes);
      if (!auth.ok()) return WithContext(auth.status(), host, call);
      sent_auth = std::move(*auth);
      if (!sent_auth.empty()) req.headers.push_back(sent_auth);
    }
    if (call.per_attempt) call.per_attempt(req.headers);
    absl::StatusOr<HttpResponse> resp = transport_.Perform(req, call.handler);
    RegistryMetrics& counted = GlobalRegistryMetrics();
    if (!resp.ok()) {
      counted.Count(absl::IsDeadlineExceeded(resp.status()) ? RegistryErrorClass::kDeadline
                                                            : RegistryErrorClass::kTransport);
      if (absl::IsDeadlineExceeded(resp.status()) && share_capped &&
          std::chrono::steady_clock::now() < call.deadline) {
        return past_deadline(std::string(resp.status().message()));
      }
      if (resp.status().code() != absl::StatusCode::kUnavailable)
        return WithContext(resp.status(), host, call);
      // A mirror that stalls or drops connections twice is left for the next host.
      if (call.has_fallback && ++broken_transfers >= 2) {
        return WithContext(
            absl::UnavailableError(absl::StrCat(resp.status().message(), " (twice; trying the next host)")),
            host, call);
      }
      auto delay = retry.NextDelay(std::nullopt);
      if (!delay) {
        return WithContext(absl::UnavailableError(absl::StrCat(resp.status().message(), " (gave up after ",
                                                               retry.attempts(), " attempts)")),
                           host, call);
      }
      if (!restart(delay)) return past_deadline(std::string(resp.status().message()));
      counted.retries.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    long status = resp->status;
    if (status == 401 && same_origin && auth_rounds < 2) {
      ++auth_rounds;
      absl::Status s = authorizer_.OnUnauthorized(host, *resp, call.scopes, sent_auth);
      if (!s.ok()) return WithContext(s, host, call);
      continue;
    }
    if (IsRedirect(status) && !resp->Header("location").empty()) {
      if (++redirects > 5) {
        return WithContext(absl::FailedPreconditionError("more than 5 redirects"), host, call);
      }
      url = ResolveLocation(url, resp->Header("location"));
      if (status == 303) method = "GET";
      continue;
    }
    if (status == 429 || status >= 500) {
      counted.Count(status == 429 ? RegistryErrorClass::kTooManyRequests : RegistryErrorClass::kServerError);
      auto delay = retry.NextDelay(ParseRetryAfter(resp->Header("retry-after")));
      if (!delay) return resp;
      if (!restart(delay)) return past_deadline(absl::StrCat("HTTP ", status));
      counted.retries.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (status >= 400) counted.Count(RegistryErrorClass::kClientError);
    return resp;
  }
}

absl::Status ClientCore::ReadRangeInto(const Reference& repo, const Digest& digest, uint64_t offset,
                                       std::span<char> out, const RangeProgress& progress,
                                       std::chrono::steady_clock::time_point deadline) {
  if (out.empty()) return absl::OkStatus();
  std::string what = absl::StrCat("repository ", repo.repository(), " blob ", digest.str(), " range ", offset,
                                  "+", out.size());
  std::string suffix = absl::StrCat("/blobs/", digest.str());
  auto result = OnHosts<bool>(
      repo.registry(), kCapPull, [&](const RegistryHost& host, bool has_fallback) -> absl::StatusOr<bool> {
        RangeHandler handler(offset, out, &what, &progress);
        RegistryCall call;
        call.has_fallback = has_fallback;
        call.url = RepoUrl(host, repo.repository(), suffix);
        call.scopes = {RepositoryScope(repo.repository(), false)};
        call.handler = &handler;
        call.what = what;
        call.deadline = deadline;
        call.per_attempt = [&handler](std::vector<std::string>& headers) { handler.AddRange(headers); };
        TIDE_ASSIGN_OR_RETURN(HttpResponse resp, Execute(host, call));
        if (resp.status != 200 && resp.status != 206) return HttpError(host, call, resp);
        if (!handler.complete()) {
          return absl::DataLossError(absl::StrCat(host.host, " ", what, ": response ended early"));
        }
        return true;
      });
  return result.status();
}

absl::Status ClientCore::ReadRangesInto(const Reference& repo, const Digest& digest,
                                        std::span<const ByteRange> ranges,
                                        std::span<const std::span<char>> outs) {
  if (ranges.size() != outs.size()) return absl::InvalidArgumentError("ranges and buffers differ in number");
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (outs[i].size() != ranges[i].length) {
      return absl::InvalidArgumentError(absl::StrCat("buffer ", i, " does not match its range length"));
    }
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  absl::Status first_error;
  auto worker = [&] {
    while (!failed.load(std::memory_order_relaxed)) {
      size_t i = next.fetch_add(1);
      if (i >= ranges.size()) return;
      absl::Status s = ReadRangeInto(repo, digest, ranges[i].offset, outs[i]);
      if (!s.ok()) {
        std::lock_guard lock(error_mu);
        if (first_error.ok()) first_error = s;
        failed = true;
      }
    }
  };
  size_t workers = std::min(ranges.size(), std::max<size_t>(1, options_.max_concurrent_ranges));
  std::vector<std::jthread> threads;
  threads.reserve(workers - 1);
  for (size_t i = 1; i < workers; ++i) threads.emplace_back(worker);
  worker();
  threads.clear();
  return first_error;
}

}  // namespace tide::registry
