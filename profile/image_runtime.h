#ifndef TIDE_PROFILE_IMAGE_RUNTIME_H_
#define TIDE_PROFILE_IMAGE_RUNTIME_H_

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "oci/descriptor.h"

namespace tide::profile {

// What running an image from an OCI layout needs: its layers (bottom first) and the process the
// config describes.
struct ImageRuntime {
  std::vector<oci::Descriptor> layers;
  std::vector<Digest> diff_ids;
  std::vector<std::string> argv;  // Entrypoint + Cmd
  std::vector<std::string> env;
  std::string working_dir = "/";
  std::string user;  // the config's User: "", "name", "uid", "name:group", ...
};

// Reads the manifest tagged `tag` (the first manifest of an index) and its config.
absl::StatusOr<ImageRuntime> LoadImageRuntime(const std::filesystem::path& layout_dir,
                                              const std::string& tag);

}  // namespace tide::profile

#endif  // TIDE_PROFILE_IMAGE_RUNTIME_H_
