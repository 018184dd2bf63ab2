#include "profile/image_runtime.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "oci/image_config.h"
#include "oci/index.h"
#include "oci/manifest.h"
#include "oci/media_types.h"
#include "oci/oci_layout.h"

namespace tide::profile {

namespace {

std::vector<std::string> StringList(const nlohmann::json& config, const char* key) {
  std::vector<std::string> out;
  auto it = config.find(key);
  if (it == config.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

absl::StatusOr<ImageRuntime> LoadImageRuntime(const std::filesystem::path& layout_dir,
                                              const std::string& tag) {
  TIDE_ASSIGN_OR_RETURN(oci::OciLayout layout, oci::OciLayout::Open(layout_dir));
  TIDE_ASSIGN_OR_RETURN(oci::Descriptor root, layout.Resolve(tag));
  TIDE_ASSIGN_OR_RETURN(std::string root_bytes, layout.ReadBlob(root.digest, root.size));
  if (oci::IsIndex(root.media_type)) {
    TIDE_ASSIGN_OR_RETURN(oci::Index index, oci::Index::Parse(root_bytes));
    if (index.manifests.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(layout_dir.string(), ":", tag, ": index has no manifests"));
    }
    root = index.manifests.front();
    TIDE_ASSIGN_OR_RETURN(root_bytes, layout.ReadBlob(root.digest, root.size));
  }
  TIDE_ASSIGN_OR_RETURN(oci::Manifest manifest, oci::Manifest::Parse(root_bytes));
  TIDE_ASSIGN_OR_RETURN(std::string config_bytes,
                        layout.ReadBlob(manifest.config.digest, manifest.config.size));
  TIDE_ASSIGN_OR_RETURN(oci::ImageConfig config, oci::ImageConfig::Parse(config_bytes));
  ImageRuntime rt;
  rt.layers = manifest.layers;
  TIDE_ASSIGN_OR_RETURN(rt.diff_ids, config.DiffIds());
  nlohmann::json doc = nlohmann::json::parse(config_bytes, nullptr, /*allow_exceptions=*/false);
  nlohmann::json process =
      doc.is_object() && doc.contains("config") ? doc["config"] : nlohmann::json::object();
  if (process.is_object()) {
    rt.argv = StringList(process, "Entrypoint");
    for (std::string& c : StringList(process, "Cmd")) rt.argv.push_back(std::move(c));
    rt.env = StringList(process, "Env");
    auto wd = process.find("WorkingDir");
    if (wd != process.end() && wd->is_string() && !wd->get<std::string>().empty()) rt.working_dir = *wd;
    auto user = process.find("User");
    if (user != process.end() && user->is_string()) rt.user = *user;
  }
  return rt;
}

}  // namespace tide::profile
