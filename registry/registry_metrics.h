#ifndef TIDE_REGISTRY_REGISTRY_METRICS_H_
#define TIDE_REGISTRY_REGISTRY_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace tide::registry {

// How a registry attempt failed: no usable response (reset, refused, stalled, cut short), out of
// time, HTTP 429, another 4xx (401 answered by auth does not count), 5xx.
enum class RegistryErrorClass { kTransport, kDeadline, kTooManyRequests, kClientError, kServerError };
inline constexpr size_t kRegistryErrorClasses = 5;
std::string_view RegistryErrorClassName(RegistryErrorClass c);

// Node-wide, across every registry client of the process; relaxed atomics.
struct RegistryMetrics {
  std::array<std::atomic<uint64_t>, kRegistryErrorClasses> errors{};
  std::atomic<uint64_t> retries{0};
  void Count(RegistryErrorClass c) { errors[static_cast<size_t>(c)].fetch_add(1, std::memory_order_relaxed); }
};
RegistryMetrics& GlobalRegistryMetrics();

}  // namespace tide::registry

#endif  // TIDE_REGISTRY_REGISTRY_METRICS_H_
