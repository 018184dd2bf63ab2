#ifndef TIDE_OCI_MANIFEST_H_
#define TIDE_OCI_MANIFEST_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "oci/descriptor.h"

namespace tide::oci {

// An image manifest (OCI image manifest or Docker schema 2).
struct Manifest {
  std::string media_type;  // may be empty in OCI manifests; Serialize() writes it when set
  std::string artifact_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;

  // Rejects anything that is not a schemaVersion 2 image manifest; context names the source.
  static absl::StatusOr<Manifest> Parse(std::string_view json, std::string_view context = "manifest");
  std::string Serialize() const;
};

}  // namespace tide::oci

#endif  // TIDE_OCI_MANIFEST_H_
