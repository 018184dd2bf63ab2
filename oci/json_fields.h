#ifndef TIDE_OCI_JSON_FIELDS_H_
#define TIDE_OCI_JSON_FIELDS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

// Typed, non-throwing access to the fields of OCI JSON documents. Every error names the document
// (context) and the field, so a malformed manifest is reported as exactly that.
namespace tide::oci {

enum class Need { kRequired, kOptional };

struct Descriptor;

// Parses text that must hold one JSON object.
absl::StatusOr<nlohmann::json> ParseJsonObject(std::string_view text, std::string_view context);

absl::Status ReadString(const nlohmann::json& obj, const char* key, std::string_view context,
                        std::string* out, Need need);
absl::Status ReadInt64(const nlohmann::json& obj, const char* key, std::string_view context, int64_t* out,
                       Need need);
// Missing means empty.
absl::Status ReadStringList(const nlohmann::json& obj, const char* key, std::string_view context,
                            std::vector<std::string>* out);
absl::Status ReadStringMap(const nlohmann::json& obj, const char* key, std::string_view context,
                           std::map<std::string, std::string>* out);
// A required array of descriptors (an index's manifests, a manifest's layers); item names each
// element in errors ("<context> <item> <i>"). Defined in descriptor.cc.
absl::Status ReadDescriptorList(const nlohmann::json& obj, const char* key, std::string_view context,
                                std::string_view item, std::vector<Descriptor>* out);

}  // namespace tide::oci

#endif  // TIDE_OCI_JSON_FIELDS_H_
