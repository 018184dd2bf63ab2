#ifndef TIDE_TEST_SUPPORT_REGISTRY_FAULT_PROXY_H_
#define TIDE_TEST_SUPPORT_REGISTRY_FAULT_PROXY_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "test/support/accept_loop.h"

namespace tide::testing {

// What the proxy does to a connection it decided to break.
enum class Fault { kReset, kStall, kTruncate, k503, k429 };

struct FaultCounts {
  int connections = 0;
  int resets = 0;
  int stalls = 0;
  int truncations = 0;
  int unavailable = 0;
  int too_many = 0;
  int cut_open = 0;  // open connections reset at the end of their lifetime
};

// A TCP proxy on 127.0.0.1 in front of an upstream port that breaks a share of the connections it
// accepts: resets them (RST), stalls them (reads, never answers), truncates the upstream's reply at
// a random byte (either direction), or answers one request with "503 Retry-After: 0" or "429
// Retry-After: 1" and closes.
// SetFaultRate(0) makes it a clean pass-through. Stops and joins its threads on destruction.
class FaultProxy {
 public:
  static absl::StatusOr<std::unique_ptr<FaultProxy>> Start(int upstream_port, uint32_t seed);
  ~FaultProxy();

  // Probability in [0,1] that a new connection gets a fault, chosen uniformly from `faults`.
  void SetFaultRate(double rate, std::vector<Fault> faults = {Fault::kReset, Fault::kStall, Fault::kTruncate,
                                                              Fault::k503});
  // The next connections get these faults, in order, before the rate applies again.
  void FailNextConnections(std::vector<Fault> faults);
  // While on, every forwarded reply, on open connections too, reaches the client one byte every
  // 200 ms: fast enough for any low-speed limit, far too slow to finish.
  void SetTrickle(bool on) { trickle_ = on; }
  // While positive, a forwarded connection older than this is reset (RST): clients that keep
  // connections alive keep meeting new connections, and so the fault rate. 0: connections live on.
  void SetConnectionLifetime(std::chrono::milliseconds lifetime) { lifetime_ms_ = lifetime.count(); }
  FaultCounts counts();
  int port() const { return connections_.port(); }
  std::string host() const { return "127.0.0.1:" + std::to_string(port()); }

 private:
  FaultProxy() = default;
  void Handle(int client_fd);
  void Forward(int client_fd, int upstream_fd, int64_t truncate_after);
  bool Trickle(int to, const char* data, size_t len);

  int upstream_port_ = 0;
  AcceptLoop connections_;
  std::mutex mu_;
  std::mt19937 rng_;
  double rate_ = 0;
  std::vector<Fault> faults_;
  std::vector<Fault> forced_;
  FaultCounts counts_;
  std::atomic<bool> trickle_{false};
  std::atomic<int64_t> lifetime_ms_{0};
};

}  // namespace tide::testing

#endif  // TIDE_TEST_SUPPORT_REGISTRY_FAULT_PROXY_H_
