#ifndef TIDE_REGISTRY_CLIENT_CORE_H_
#define TIDE_REGISTRY_CLIENT_CORE_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "registry/authorizer.h"
#include "registry/credentials.h"
#include "registry/hosts_config.h"
#include "registry/http_transport.h"
#include "registry/reference.h"
#include "registry/registry_client.h"

namespace tide::registry {

// One logical registry request; Execute turns it into HTTP attempts with auth, redirects and retries.
struct RegistryCall {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;
  std::string_view body;
  std::string body_file;
  uint64_t body_file_offset = 0;
  uint64_t body_file_length = 0;
  Scopes scopes;
  ResponseHandler* handler = nullptr;
  // Adds per-attempt headers, e.g. a Range that resumes after what an earlier attempt delivered.
  std::function<void(std::vector<std::string>&)> per_attempt;
  // Describes the target in errors: "repository a/b blob sha256:..".
  std::string what;
  // Every attempt, and every wait between attempts, ends by then (see HttpRequest::deadline).
  std::chrono::steady_clock::time_point deadline = kNoDeadline;
  // Another host (the next mirror or the origin) would be tried if this one fails. Such a host
  // gets a shorter stall limit, at most two broken transfers, and half the time left before
  // `deadline`, so a stalled or trickling mirror leaves the rest of a reader's time to the next.
  bool has_fallback = false;
};

// Shared internals of RegistryClient and the BlobRangeReaders it hands out (they may outlive it).
class ClientCore {
 public:
  static absl::StatusOr<std::shared_ptr<ClientCore>> Create(const RegistryClientOptions& options);

  const RegistryClientOptions& options() const { return options_; }

  // The hosts for a registry, computed once from hosts.toml.
  absl::StatusOr<std::shared_ptr<const std::vector<RegistryHost>>> Hosts(const std::string& registry);

  // Runs a call against one host: adds the host's headers and Authorization (same origin only),
  // answers 401 challenges, follows redirects without credentials to other origins, and retries
  // connection errors, 429 and 5xx with backoff within the retry budget. Returns the final response
  // (any status) or a transport error naming host and target.
  absl::StatusOr<HttpResponse> Execute(const RegistryHost& host, RegistryCall& call);

  // Calls f(host) for each host with `capability`, in order, until one succeeds; returns the last
  // error when all fail. f may take (host, has_fallback) to learn whether another host follows.
  // A host that just failed with kUnavailable (down, or out of retries), kDataLoss (a short body,
  // or bytes the caller found corrupt) or kFailedPrecondition (ignores Range) is tried last for a
  // cool-down period, so a dead, lying or unusable mirror costs one retry budget, not one per read.
  template <typename T, typename F>
  absl::StatusOr<T> OnHosts(const std::string& registry, unsigned capability, F&& f) {
    auto hosts = Hosts(registry);
    if (!hosts.ok()) return hosts.status();
    std::vector<const RegistryHost*> order;
    std::vector<const RegistryHost*> cooling;
    for (const RegistryHost& host : **hosts) {
      if ((host.capabilities & capability) == 0) continue;
      ((*hosts)->size() > 1 && CoolingDown(host) ? cooling : order).push_back(&host);
    }
    // Hosts that are cooling down do not count as a fallback for the healthy ones before them: the
    // origin, first while its mirror cools down, keeps all of a reader's time.
    const size_t healthy = order.size();
    order.insert(order.end(), cooling.begin(), cooling.end());
    absl::Status last = absl::NotFoundError("no configured host has the needed capability for " + registry);
    for (size_t i = 0; i < order.size(); ++i) {
      const RegistryHost* host = order[i];
      absl::StatusOr<T> r = [&] {
        if constexpr (std::is_invocable_v<F, const RegistryHost&, bool>) {
          return f(*host, i + 1 < (i < healthy ? healthy : order.size()));
        } else {
          return f(*host);
        }
      }();
      // Down, out of retries, serving bytes that fail their digest, or unusable (ignores Range, as a
      // pull-through registry does for a blob it is still storing; TLS setup): tried last for a while.
      if (order.size() > 1) {
        MarkHealth(*host, r.ok() || !(absl::IsUnavailable(r.status()) || absl::IsDataLoss(r.status()) ||
                                      absl::IsFailedPrecondition(r.status())));
      }
      if (r.ok() || !HostFailoverWorthy(r.status())) return r;
      last = r.status();
    }
    return last;
  }

  absl::Status ReadRangeInto(const Reference& repo, const Digest& digest, uint64_t offset,
                             std::span<char> out, const RangeProgress& progress = {},
                             std::chrono::steady_clock::time_point deadline = kNoDeadline);
  absl::Status ReadRangesInto(const Reference& repo, const Digest& digest, std::span<const ByteRange> ranges,
                              std::span<const std::span<char>> outs);

  // "<scheme>://<host><api>/<repo><suffix>[?ns=]" for host.
  static std::string RepoUrl(const RegistryHost& host, const std::string& repository,
                             std::string_view suffix);
  // An error for a non-success response, mapped to a status code and naming host and target.
  static absl::Status HttpError(const RegistryHost& host, const RegistryCall& call,
                                const HttpResponse& response);

 private:
  explicit ClientCore(const RegistryClientOptions& options, CredentialStore credentials);
  static bool HostFailoverWorthy(const absl::Status& s);
  bool CoolingDown(const RegistryHost& host);
  // The bearer challenge of the registry's own server entry (the last host), asked anonymously
  // once and remembered.
  absl::StatusOr<OriginChallenge> OriginChallengeFor(const std::string& registry);
  void MarkHealth(const RegistryHost& host, bool healthy);

  RegistryClientOptions options_;
  // Before transport_: curl handles point at the hosts' TLS settings until they are cleaned up.
  std::mutex hosts_mu_;
  std::map<std::string, std::shared_ptr<const std::vector<RegistryHost>>> hosts_;
  HttpTransport transport_;
  CredentialStore credentials_;
  Authorizer authorizer_;
  std::mutex origin_mu_;
  std::map<std::string, OriginChallenge> origin_challenges_;  // by registry
  std::mutex health_mu_;
  std::map<std::string, std::chrono::steady_clock::time_point> cool_until_;  // by base URL
};

}  // namespace tide::registry

#endif  // TIDE_REGISTRY_CLIENT_CORE_H_
