#include "oci/document_fields.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "oci/json_fields.h"
#include "oci/media_types.h"

namespace tide::oci {
namespace {

bool IsOfKind(DocumentKind kind, std::string_view media_type) {
  return kind == DocumentKind::kManifest ? IsManifest(media_type) : IsIndex(media_type);
}

const char* KindName(DocumentKind kind) {
  return kind == DocumentKind::kManifest ? "an image manifest" : "an index";
}

DocumentKind OtherKind(DocumentKind kind) {
  return kind == DocumentKind::kManifest ? DocumentKind::kIndex : DocumentKind::kManifest;
}

}  // namespace

absl::Status DocumentError(std::string_view context, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(Sv(context), ": ", Sv(why)));
}

absl::StatusOr<nlohmann::json> ParseDocumentOpening(std::string_view json, std::string_view context,
                                                    DocumentKind kind, std::string* media_type) {
  TIDE_ASSIGN_OR_RETURN(nlohmann::json j, ParseJsonObject(json, context));
  int64_t schema = 0;
  TIDE_RETURN_IF_ERROR(ReadInt64(j, "schemaVersion", context, &schema, Need::kRequired));
  if (schema != 2) {
    return DocumentError(context, absl::StrCat("unsupported schemaVersion ", schema, " (want 2)"));
  }
  TIDE_RETURN_IF_ERROR(ReadString(j, "mediaType", context, media_type, Need::kOptional));
  if (!media_type->empty() && !IsOfKind(kind, *media_type)) {
    DocumentKind other = OtherKind(kind);
    return DocumentError(
        context,
        absl::StrCat("mediaType \"", *media_type, "\" is not ", KindName(kind),
                     IsOfKind(other, *media_type) ? absl::StrCat(" (it is ", KindName(other), ")") : ""));
  }
  return j;
}

absl::Status ReadSubjectAndAnnotations(const nlohmann::json& doc, std::string_view context,
                                       std::optional<Descriptor>* subject,
                                       std::map<std::string, std::string>* annotations) {
  if (auto s = doc.find("subject"); s != doc.end() && !s->is_null()) {
    TIDE_ASSIGN_OR_RETURN(*subject, Descriptor::FromJson(*s, absl::StrCat(Sv(context), " subject")));
  }
  return ReadStringMap(doc, "annotations", context, annotations);
}

}  // namespace tide::oci
