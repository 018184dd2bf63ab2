#include "oci/manifest.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "nlohmann/json.hpp"
#include "oci/document_fields.h"
#include "oci/json_fields.h"

namespace tide::oci {

absl::StatusOr<Manifest> Manifest::Parse(std::string_view json, std::string_view context) {
  Manifest m;
  TIDE_ASSIGN_OR_RETURN(nlohmann::json j,
                        ParseDocumentOpening(json, context, DocumentKind::kManifest, &m.media_type));
  if (j.contains("manifests") && !j.contains("config")) {
    return DocumentError(context, "is an index, not an image manifest");
  }
  TIDE_RETURN_IF_ERROR(ReadString(j, "artifactType", context, &m.artifact_type, Need::kOptional));
  auto config = j.find("config");
  if (config == j.end()) return DocumentError(context, "field \"config\" is missing");
  TIDE_ASSIGN_OR_RETURN(m.config, Descriptor::FromJson(*config, absl::StrCat(Sv(context), " config")));
  TIDE_RETURN_IF_ERROR(ReadDescriptorList(j, "layers", context, "layer", &m.layers));
  TIDE_RETURN_IF_ERROR(ReadSubjectAndAnnotations(j, context, &m.subject, &m.annotations));
  return m;
}

std::string Manifest::Serialize() const {
  nlohmann::json j = {{"schemaVersion", 2}, {"config", config.ToJson()}};
  if (!media_type.empty()) j["mediaType"] = media_type;
  if (!artifact_type.empty()) j["artifactType"] = artifact_type;
  j["layers"] = nlohmann::json::array();
  for (const Descriptor& l : layers) j["layers"].push_back(l.ToJson());
  if (subject) j["subject"] = subject->ToJson();
  if (!annotations.empty()) j["annotations"] = annotations;
  return j.dump();
}

}  // namespace tide::oci
