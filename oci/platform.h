#ifndef TIDE_OCI_PLATFORM_H_
#define TIDE_OCI_PLATFORM_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"

namespace tide::oci {

// An OCI platform. Values are kept as written; comparisons go through Normalized() so that the
// spellings containerd treats as equal (x86_64 = amd64, aarch64 = arm64, arm64 = arm64/v8, ...) match.
struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string os_version;
  std::vector<std::string> os_features;

  // "os[/arch[/variant]]", or a bare architecture ("arm64") meaning the host OS.
  static absl::StatusOr<Platform> Parse(std::string_view text);
  // The platform this process runs on (normalized).
  static Platform Host();
  static absl::StatusOr<Platform> FromJson(const nlohmann::json& j, std::string_view context);
  nlohmann::json ToJson() const;

  Platform Normalized() const;
  // True when both name the same os/architecture/variant after normalization. os_version and
  // os_features only matter when both sides set them (Windows images).
  bool Matches(const Platform& other) const;
  std::string ToString() const;  // "os/arch[/variant]"

  friend bool operator==(const Platform& a, const Platform& b) = default;
};

}  // namespace tide::oci

#endif  // TIDE_OCI_PLATFORM_H_
