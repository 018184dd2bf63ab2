#ifndef TIDE_OCI_DESCRIPTOR_H_
#define TIDE_OCI_DESCRIPTOR_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "nlohmann/json_fwd.hpp"
#include "oci/platform.h"

namespace tide::oci {

// OCI content descriptor: what a manifest or index says about one blob.
struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  std::vector<std::string> urls;
  std::string artifact_type;

  // context names the document and position for errors, e.g. "manifest sha256:.. layer 2".
  static absl::StatusOr<Descriptor> FromJson(const nlohmann::json& j, std::string_view context);
  nlohmann::json ToJson() const;

  friend bool operator==(const Descriptor& a, const Descriptor& b) = default;
};

}  // namespace tide::oci

#endif  // TIDE_OCI_DESCRIPTOR_H_
