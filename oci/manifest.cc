#include "oci/manifest.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "nlohmann/json.hpp"
#include "oci/json_fields.h"
#include "oci/media_types.h"

namespace tide::oci {

absl::StatusOr<Manifest> Manifest::Parse(std::string_view json, std::string_view context) {
  TIDE_ASSIGN_OR_RETURN(nlohmann::json j, ParseJsonObject(json, context));
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(Sv(context), ": ", Sv(why)));
  };
  int64_t schema = 0;
  TIDE_RETURN_IF_ERROR(ReadInt64(j, "schemaVersion", context, &schema, Need::kRequired));
  if (schema != 2) return bad(absl::StrCat("unsupported schemaVersion ", schema, " (want 2)"));
  Manifest m;
  TIDE_RETURN_IF_ERROR(ReadString(j, "mediaType", context, &m.media_type, Need::kOptional));
  if (!m.media_type.empty() && !IsManifest(m.media_type)) {
    return bad(absl::StrCat("mediaType \"", m.media_type, "\" is not an image manifest",
                            IsIndex(m.media_type) ? " (it is an index)" : ""));
  }
  if (j.contains("manifests") && !j.contains("config")) return bad("is an index, not an image manifest");
  TIDE_RETURN_IF_ERROR(ReadString(j, "artifactType", context, &m.artifact_type, Need::kOptional));
  auto config = j.find("config");
  if (config == j.end()) return bad("field \"config\" is missing");
  TIDE_ASSIGN_OR_RETURN(m.config, Descriptor::FromJson(*config, absl::StrCat(Sv(context), " config")));
  TIDE_RETURN_IF_ERROR(ReadDescriptorList(j, "layers", context, "layer", &m.layers));
  if (auto s = j.find("subject"); s != j.end() && !s->is_null()) {
    TIDE_ASSIGN_OR_RETURN(m.subject, Descriptor::FromJson(*s, absl::StrCat(Sv(context), " subject")));
  }
  TIDE_RETURN_IF_ERROR(ReadStringMap(j, "annotations", context, &m.annotations));
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
