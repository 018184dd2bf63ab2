#include "oci/index.h"

#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "oci/document_fields.h"
#include "oci/json_fields.h"

namespace tide::oci {

absl::StatusOr<Index> Index::Parse(std::string_view json, std::string_view context) {
  Index idx;
  TIDE_ASSIGN_OR_RETURN(nlohmann::json j,
                        ParseDocumentOpening(json, context, DocumentKind::kIndex, &idx.media_type));
  TIDE_RETURN_IF_ERROR(ReadString(j, "artifactType", context, &idx.artifact_type, Need::kOptional));
  TIDE_RETURN_IF_ERROR(ReadDescriptorList(j, "manifests", context, "manifest", &idx.manifests));
  TIDE_RETURN_IF_ERROR(ReadSubjectAndAnnotations(j, context, &idx.subject, &idx.annotations));
  return idx;
}

std::string Index::Serialize() const {
  nlohmann::json j = {{"schemaVersion", 2}, {"manifests", nlohmann::json::array()}};
  if (!media_type.empty()) j["mediaType"] = media_type;
  if (!artifact_type.empty()) j["artifactType"] = artifact_type;
  for (const Descriptor& d : manifests) j["manifests"].push_back(d.ToJson());
  if (subject) j["subject"] = subject->ToJson();
  if (!annotations.empty()) j["annotations"] = annotations;
  return j.dump();
}

}  // namespace tide::oci
