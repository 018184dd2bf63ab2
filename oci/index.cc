#include "oci/index.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "nlohmann/json.hpp"
#include "oci/json_fields.h"
#include "oci/media_types.h"

namespace tide::oci {

absl::StatusOr<Index> Index::Parse(std::string_view json, std::string_view context) {
  TIDE_ASSIGN_OR_RETURN(nlohmann::json j, ParseJsonObject(json, context));
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(Sv(context), ": ", Sv(why)));
  };
  int64_t schema = 0;
  TIDE_RETURN_IF_ERROR(ReadInt64(j, "schemaVersion", context, &schema, Need::kRequired));
  if (schema != 2) return bad(absl::StrCat("unsupported schemaVersion ", schema, " (want 2)"));
  Index idx;
  TIDE_RETURN_IF_ERROR(ReadString(j, "mediaType", context, &idx.media_type, Need::kOptional));
  if (!idx.media_type.empty() && !IsIndex(idx.media_type)) {
    return bad(absl::StrCat("mediaType \"", idx.media_type, "\" is not an index",
                            IsManifest(idx.media_type) ? " (it is an image manifest)" : ""));
  }
  TIDE_RETURN_IF_ERROR(ReadString(j, "artifactType", context, &idx.artifact_type, Need::kOptional));
  TIDE_RETURN_IF_ERROR(ReadDescriptorList(j, "manifests", context, "manifest", &idx.manifests));
  if (auto s = j.find("subject"); s != j.end() && !s->is_null()) {
    TIDE_ASSIGN_OR_RETURN(idx.subject, Descriptor::FromJson(*s, absl::StrCat(Sv(context), " subject")));
  }
  TIDE_RETURN_IF_ERROR(ReadStringMap(j, "annotations", context, &idx.annotations));
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
