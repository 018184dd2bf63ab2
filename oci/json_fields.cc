#include "oci/json_fields.h"

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide::oci {

namespace {

absl::Status FieldError(std::string_view context, const char* key, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(Sv(context), ": field \"", key, "\" ", Sv(why)));
}

}  // namespace

absl::StatusOr<nlohmann::json> ParseJsonObject(std::string_view text, std::string_view context) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(Sv(context), ": malformed JSON: ", e.what()));
  }
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat(Sv(context), ": not a JSON object"));
  return j;
}

absl::Status ReadString(const nlohmann::json& obj, const char* key, std::string_view context,
                        std::string* out, Need need) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (need == Need::kRequired) return FieldError(context, key, "is missing");
    return absl::OkStatus();
  }
  if (!it->is_string()) return FieldError(context, key, "is not a string");
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status ReadInt64(const nlohmann::json& obj, const char* key, std::string_view context, int64_t* out,
                       Need need) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (need == Need::kRequired) return FieldError(context, key, "is missing");
    return absl::OkStatus();
  }
  if (!it->is_number_integer()) return FieldError(context, key, "is not an integer");
  *out = it->get<int64_t>();
  return absl::OkStatus();
}

absl::Status ReadStringList(const nlohmann::json& obj, const char* key, std::string_view context,
                            std::vector<std::string>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_array()) return FieldError(context, key, "is not an array");
  out->clear();
  for (const auto& v : *it) {
    if (!v.is_string()) return FieldError(context, key, "has a non-string element");
    out->push_back(v.get<std::string>());
  }
  return absl::OkStatus();
}

absl::Status ReadStringMap(const nlohmann::json& obj, const char* key, std::string_view context,
                           std::map<std::string, std::string>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_object()) return FieldError(context, key, "is not an object");
  out->clear();
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string())
      return FieldError(context, key, absl::StrCat("has a non-string value for \"", k, "\""));
    (*out)[k] = v.get<std::string>();
  }
  return absl::OkStatus();
}

}  // namespace tide::oci
