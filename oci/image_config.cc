#include "oci/image_config.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "nlohmann/json.hpp"
#include "oci/json_fields.h"

namespace tide::oci {

struct ImageConfig::Json {
  nlohmann::json doc = nlohmann::json::object();
};

ImageConfig::ImageConfig() : json_(std::make_unique<Json>()) {}
ImageConfig::~ImageConfig() = default;
ImageConfig::ImageConfig(const ImageConfig& o)
    : json_(std::make_unique<Json>(*o.json_)), context_(o.context_) {}
ImageConfig& ImageConfig::operator=(const ImageConfig& o) {
  if (this != &o) {
    json_ = std::make_unique<Json>(*o.json_);
    context_ = o.context_;
  }
  return *this;
}
ImageConfig::ImageConfig(ImageConfig&&) noexcept = default;
ImageConfig& ImageConfig::operator=(ImageConfig&&) noexcept = default;

absl::StatusOr<ImageConfig> ImageConfig::Parse(std::string_view json, std::string_view context) {
  ImageConfig c;
  TIDE_ASSIGN_OR_RETURN(c.json_->doc, ParseJsonObject(json, context));
  c.context_ = std::string(context);
  if (auto it = c.json_->doc.find("rootfs"); it != c.json_->doc.end() && !it->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(Sv(context), ": field \"rootfs\" is not an object"));
  }
  // Validate eagerly so callers learn about a broken config when they load it.
  TIDE_RETURN_IF_ERROR(c.DiffIds().status());
  TIDE_RETURN_IF_ERROR(c.History().status());
  return c;
}

std::string ImageConfig::Serialize() const { return json_->doc.dump(); }

absl::StatusOr<std::vector<Digest>> ImageConfig::DiffIds() const {
  std::vector<Digest> out;
  auto rootfs = json_->doc.find("rootfs");
  if (rootfs == json_->doc.end() || !rootfs->is_object()) return out;
  std::vector<std::string> ids;
  TIDE_RETURN_IF_ERROR(ReadStringList(*rootfs, "diff_ids", absl::StrCat(context_, " rootfs"), &ids));
  for (size_t i = 0; i < ids.size(); ++i) {
    auto d = Digest::Parse(ids[i]);
    if (!d.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(context_, ": rootfs.diff_ids[", i, "]: ", d.status().message()));
    }
    out.push_back(*d);
  }
  return out;
}

void ImageConfig::SetDiffIds(const std::vector<Digest>& diff_ids) {
  nlohmann::json ids = nlohmann::json::array();
  for (const Digest& d : diff_ids) ids.push_back(d.str());
  nlohmann::json& rootfs = json_->doc["rootfs"];
  if (!rootfs.is_object()) rootfs = nlohmann::json::object();
  rootfs["type"] = "layers";
  rootfs["diff_ids"] = std::move(ids);
}

absl::StatusOr<std::vector<HistoryEntry>> ImageConfig::History() const {
  std::vector<HistoryEntry> out;
  auto history = json_->doc.find("history");
  if (history == json_->doc.end() || history->is_null()) return out;
  if (!history->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(context_, ": field \"history\" is not an array"));
  }
  for (size_t i = 0; i < history->size(); ++i) {
    const nlohmann::json& h = (*history)[i];
    std::string ctx = absl::StrCat(context_, " history[", i, "]");
    if (!h.is_object()) return absl::InvalidArgumentError(absl::StrCat(ctx, ": not an object"));
    HistoryEntry e;
    TIDE_RETURN_IF_ERROR(ReadString(h, "created", ctx, &e.created, Need::kOptional));
    TIDE_RETURN_IF_ERROR(ReadString(h, "created_by", ctx, &e.created_by, Need::kOptional));
    TIDE_RETURN_IF_ERROR(ReadString(h, "author", ctx, &e.author, Need::kOptional));
    TIDE_RETURN_IF_ERROR(ReadString(h, "comment", ctx, &e.comment, Need::kOptional));
    if (auto it = h.find("empty_layer"); it != h.end() && !it->is_null()) {
      if (!it->is_boolean())
        return absl::InvalidArgumentError(absl::StrCat(ctx, ": empty_layer is not a bool"));
      e.empty_layer = it->get<bool>();
    }
    out.push_back(std::move(e));
  }
  return out;
}

void ImageConfig::SetHistory(const std::vector<HistoryEntry>& history) {
  nlohmann::json arr = nlohmann::json::array();
  for (const HistoryEntry& e : history) {
    nlohmann::json h = nlohmann::json::object();
    if (!e.created.empty()) h["created"] = e.created;
    if (!e.created_by.empty()) h["created_by"] = e.created_by;
    if (!e.author.empty()) h["author"] = e.author;
    if (!e.comment.empty()) h["comment"] = e.comment;
    if (e.empty_layer) h["empty_layer"] = true;
    arr.push_back(std::move(h));
  }
  json_->doc["history"] = std::move(arr);
}

absl::StatusOr<Platform> ImageConfig::GetPlatform() const {
  Platform p;
  const nlohmann::json& d = json_->doc;
  TIDE_RETURN_IF_ERROR(ReadString(d, "os", context_, &p.os, Need::kRequired));
  TIDE_RETURN_IF_ERROR(ReadString(d, "architecture", context_, &p.architecture, Need::kRequired));
  TIDE_RETURN_IF_ERROR(ReadString(d, "variant", context_, &p.variant, Need::kOptional));
  TIDE_RETURN_IF_ERROR(ReadString(d, "os.version", context_, &p.os_version, Need::kOptional));
  TIDE_RETURN_IF_ERROR(ReadStringList(d, "os.features", context_, &p.os_features));
  return p;
}

void ImageConfig::SetPlatform(const Platform& platform) {
  nlohmann::json& d = json_->doc;
  d["os"] = platform.os;
  d["architecture"] = platform.architecture;
  auto set_or_erase = [&](const char* key, const std::string& v) {
    if (v.empty()) {
      d.erase(key);
    } else {
      d[key] = v;
    }
  };
  set_or_erase("variant", platform.variant);
  set_or_erase("os.version", platform.os_version);
  if (platform.os_features.empty()) {
    d.erase("os.features");
  } else {
    d["os.features"] = platform.os_features;
  }
}

}  // namespace tide::oci
