#ifndef TIDE_OCI_DOCUMENT_FIELDS_H_
#define TIDE_OCI_DOCUMENT_FIELDS_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "oci/descriptor.h"

// What an image manifest and an image index have in common: both are schemaVersion 2 JSON objects
// that may name their own mediaType, and both may carry a subject and annotations.
namespace tide::oci {

enum class DocumentKind { kManifest, kIndex };

// Parses `json` as a document of `kind`: one JSON object, schemaVersion 2, and a mediaType (stored
// in *media_type) that is either absent or one of that kind.
absl::StatusOr<nlohmann::json> ParseDocumentOpening(std::string_view json, std::string_view context,
                                                    DocumentKind kind, std::string* media_type);

// Reads the optional "subject" and "annotations".
absl::Status ReadSubjectAndAnnotations(const nlohmann::json& doc, std::string_view context,
                                       std::optional<Descriptor>* subject,
                                       std::map<std::string, std::string>* annotations);

// InvalidArgument "<context>: <why>".
absl::Status DocumentError(std::string_view context, std::string_view why);

}  // namespace tide::oci

#endif  // TIDE_OCI_DOCUMENT_FIELDS_H_
