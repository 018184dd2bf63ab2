#ifndef TIDE_OCI_IMAGE_CONFIG_H_
#define TIDE_OCI_IMAGE_CONFIG_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/digest.h"
#include "oci/platform.h"

namespace tide::oci {

// One entry of the config's "history" array.
struct HistoryEntry {
  std::string created;
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;

  friend bool operator==(const HistoryEntry& a, const HistoryEntry& b) = default;
};

// An image config blob. The whole JSON document is kept so fields tide does not model (Env, Cmd,
// Labels, vendor extensions) survive a rewrite unchanged.
class ImageConfig {
 public:
  ImageConfig();
  ~ImageConfig();
  ImageConfig(const ImageConfig&);
  ImageConfig& operator=(const ImageConfig&);
  ImageConfig(ImageConfig&&) noexcept;
  ImageConfig& operator=(ImageConfig&&) noexcept;

  static absl::StatusOr<ImageConfig> Parse(std::string_view json, std::string_view context = "image config");
  std::string Serialize() const;

  absl::StatusOr<std::vector<Digest>> DiffIds() const;
  void SetDiffIds(const std::vector<Digest>& diff_ids);
  absl::StatusOr<std::vector<HistoryEntry>> History() const;
  void SetHistory(const std::vector<HistoryEntry>& history);
  absl::StatusOr<Platform> GetPlatform() const;
  void SetPlatform(const Platform& platform);

 private:
  struct Json;
  std::unique_ptr<Json> json_;
  std::string context_;
};

}  // namespace tide::oci

#endif  // TIDE_OCI_IMAGE_CONFIG_H_
