#include "registry/registry_metrics.h"

namespace tide::registry {

std::string_view RegistryErrorClassName(RegistryErrorClass c) {
  switch (c) {
    case RegistryErrorClass::kTransport:
      return "transport";
    case RegistryErrorClass::kDeadline:
      return "deadline";
    case RegistryErrorClass::kTooManyRequests:
      return "429";
    case RegistryErrorClass::kClientError:
      return "4xx";
    case RegistryErrorClass::kServerError:
      return "5xx";
  }
  return "unknown";
}

RegistryMetrics& GlobalRegistryMetrics() {
  static RegistryMetrics metrics;
  return metrics;
}

}  // namespace tide::registry
