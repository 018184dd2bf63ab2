#ifndef TIDE_OCI_INDEX_H_
#define TIDE_OCI_INDEX_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "oci/descriptor.h"

namespace tide::oci {

// The annotation an OCI layout's index.json uses to name (tag) a manifest.
inline constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";

// An image index (OCI index, Docker manifest list, or an OCI layout's index.json).
struct Index {
  std::string media_type;
  std::string artifact_type;
  std::vector<Descriptor> manifests;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;

  static absl::StatusOr<Index> Parse(std::string_view json, std::string_view context = "index");
  std::string Serialize() const;
};

}  // namespace tide::oci

#endif  // TIDE_OCI_INDEX_H_
