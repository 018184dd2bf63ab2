#ifndef TIDE_PROFILE_SCRATCH_DIR_H_
#define TIDE_PROFILE_SCRATCH_DIR_H_

#include <filesystem>
#include <string>

#include "absl/status/statusor.h"

namespace tide::profile {

// A private directory (mkdtemp under `parent`, or $TMPDIR or /tmp), removed with its contents when
// the object goes away. Whatever was mounted inside must be unmounted first.
class ScratchDir {
 public:
  static absl::StatusOr<ScratchDir> Create(const std::string& parent, const std::string& prefix);
  ScratchDir(ScratchDir&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  ScratchDir& operator=(ScratchDir&&) = delete;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir();

  const std::filesystem::path& path() const { return path_; }

 private:
  explicit ScratchDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

}  // namespace tide::profile

#endif  // TIDE_PROFILE_SCRATCH_DIR_H_
