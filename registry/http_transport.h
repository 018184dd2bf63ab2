#ifndef TIDE_REGISTRY_HTTP_TRANSPORT_H_
#define TIDE_REGISTRY_HTTP_TRANSPORT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "registry/tls_config.h"

namespace tide::registry {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  const TlsConfig* tls = nullptr;
  // Request body: either in memory or a slice of a file (for blob uploads).
  std::string_view body;
  std::string body_file;
  uint64_t body_file_offset = 0;
  uint64_t body_file_length = 0;
  // The whole exchange, headers and body, ends by then or fails with kDeadlineExceeded: a registry
  // that trickles bytes stays above any low-speed limit. max(): only the low-speed limit applies.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Overrides TransportOptions::low_speed_time when positive: a mirror with a host behind it is
  // given up on sooner than the last host.
  std::chrono::milliseconds low_speed_time{0};
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  // Body of non-2xx responses, or of 2xx responses when no handler was given (capped).
  std::string body;
  bool body_truncated_by_cap = false;

  // First header with this lowercase name, or empty.
  std::string_view Header(std::string_view lower_name) const;
};

// Receives 2xx response bodies as they stream in. A non-OK status aborts the transfer and is
// returned from Perform.
class ResponseHandler {
 public:
  virtual ~ResponseHandler() = default;
  virtual absl::Status OnHeaders(const HttpResponse& head) = 0;
  virtual absl::Status OnData(std::string_view data) = 0;
};

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{10000};
  // A transfer slower than 1 byte/s for this long is treated as a stalled connection.
  std::chrono::milliseconds low_speed_time{30000};
  std::string user_agent = "tide/0.1";
  size_t max_body_bytes = 8 << 20;  // cap for collected bodies (manifests, errors)
};

// One HTTP exchange at a time per call, never following redirects (the caller decides where
// credentials may go). Thread-safe: every request gets a new curl handle, and connection slots are
// pooled so their live connections (keep-alive, HTTP/2 where offered), DNS entries and TLS sessions
// serve later requests.
class HttpTransport {
 public:
  explicit HttpTransport(TransportOptions options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Transport failures come back as errors: kUnavailable for ones worth retrying (connection
  // refused/reset, timeouts, truncated bodies), kDeadlineExceeded once the request's deadline has
  // passed, other codes for ones that are not worth retrying (TLS verification, bad URL). Handler errors are
  // returned unchanged.
  absl::StatusOr<HttpResponse> Perform(const HttpRequest& request, ResponseHandler* handler = nullptr);

  const TransportOptions& options() const { return options_; }

 private:
  // A slot is a libcurl share holding a connection cache (and DNS, TLS sessions), used by one
  // request at a time.
  void* AcquireSlot();
  void ReleaseSlot(void* share);

  // Idle slots kept with their live connections; enough for FUSE's readers plus a batch.
  static constexpr size_t kMaxIdleSlots = 64;

  TransportOptions options_;
  std::mutex pool_mu_;
  std::vector<void*> idle_;
};

}  // namespace tide::registry

#endif  // TIDE_REGISTRY_HTTP_TRANSPORT_H_
