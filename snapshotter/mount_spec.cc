#include "snapshotter/mount_spec.h"

#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tide::snapshotter {
namespace {

// Like containerd: with the overlay "index" feature on, reusing upper dirs over changed lower layers
// fails, so turn it off whenever the kernel knows the option.
bool KernelSupportsOverlayIndex() {
  static const bool supported = [] {
    std::error_code ec;
    return std::filesystem::exists("/sys/module/overlay/parameters/index", ec);
  }();
  return supported;
}

}  // namespace

std::vector<MountSpec> OverlayMounts(Kind kind, const std::filesystem::path& fs,
                                     const std::filesystem::path& work,
                                     const std::vector<std::filesystem::path>& lowers) {
  if (lowers.empty()) {
    return {MountSpec{"bind", fs.string(), {kind == Kind::kView ? "ro" : "rw", "rbind"}}};
  }
  if (kind == Kind::kView && lowers.size() == 1) {
    return {MountSpec{"bind", lowers.front().string(), {"ro", "rbind"}}};
  }
  std::vector<std::string> options;
  if (KernelSupportsOverlayIndex()) options.push_back("index=off");
  if (kind == Kind::kActive) {
    options.push_back(absl::StrCat("workdir=", work.string()));
    options.push_back(absl::StrCat("upperdir=", fs.string()));
  }
  std::vector<std::string> dirs;
  for (const auto& lower : lowers) dirs.push_back(lower.string());
  options.push_back(absl::StrCat("lowerdir=", absl::StrJoin(dirs, ":")));
  return {MountSpec{"overlay", "overlay", std::move(options)}};
}

}  // namespace tide::snapshotter
