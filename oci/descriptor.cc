#include "oci/descriptor.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "nlohmann/json.hpp"
#include "oci/json_fields.h"

namespace tide::oci {

absl::StatusOr<Descriptor> Descriptor::FromJson(const nlohmann::json& j, std::string_view context) {
  if (!j.is_object())
    return absl::InvalidArgumentError(absl::StrCat(Sv(context), ": descriptor is not an object"));
  Descriptor d;
  TIDE_RETURN_IF_ERROR(ReadString(j, "mediaType", context, &d.media_type, Need::kRequired));
  std::string digest;
  TIDE_RETURN_IF_ERROR(ReadString(j, "digest", context, &digest, Need::kRequired));
  auto parsed = Digest::Parse(digest);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(Sv(context), ": ", parsed.status().message()));
  }
  d.digest = *parsed;
  TIDE_RETURN_IF_ERROR(ReadInt64(j, "size", context, &d.size, Need::kRequired));
  if (d.size < 0) return absl::InvalidArgumentError(absl::StrCat(Sv(context), ": negative size ", d.size));
  TIDE_RETURN_IF_ERROR(ReadStringMap(j, "annotations", context, &d.annotations));
  TIDE_RETURN_IF_ERROR(ReadStringList(j, "urls", context, &d.urls));
  TIDE_RETURN_IF_ERROR(ReadString(j, "artifactType", context, &d.artifact_type, Need::kOptional));
  if (auto it = j.find("platform"); it != j.end() && !it->is_null()) {
    TIDE_ASSIGN_OR_RETURN(d.platform, Platform::FromJson(*it, context));
  }
  return d;
}

nlohmann::json Descriptor::ToJson() const {
  nlohmann::json j = {{"mediaType", media_type}, {"digest", digest.str()}, {"size", size}};
  if (!annotations.empty()) j["annotations"] = annotations;
  if (platform) j["platform"] = platform->ToJson();
  if (!urls.empty()) j["urls"] = urls;
  if (!artifact_type.empty()) j["artifactType"] = artifact_type;
  return j;
}

absl::Status ReadDescriptorList(const nlohmann::json& obj, const char* key, std::string_view context,
                                std::string_view item, std::vector<Descriptor>* out) {
  auto array = obj.find(key);
  if (array == obj.end()) {
    return absl::InvalidArgumentError(absl::StrCat(Sv(context), ": field \"", key, "\" is missing"));
  }
  if (!array->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(Sv(context), ": field \"", key, "\" is not an array"));
  }
  for (size_t i = 0; i < array->size(); ++i) {
    TIDE_ASSIGN_OR_RETURN(
        Descriptor d, Descriptor::FromJson((*array)[i], absl::StrCat(Sv(context), " ", Sv(item), " ", i)));
    out->push_back(std::move(d));
  }
  return absl::OkStatus();
}

}  // namespace tide::oci
