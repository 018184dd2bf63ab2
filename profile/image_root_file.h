#ifndef TIDE_PROFILE_IMAGE_ROOT_FILE_H_
#define TIDE_PROFILE_IMAGE_ROOT_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace tide::profile {

// Opens `path` as the image sees it, under the directory `root_fd`: symlinks and ".." resolve as if
// root_fd were / (openat2 RESOLVE_IN_ROOT) and magic links (/proc/*/fd) are refused, so an image's
// absolute symlink can never name a host file.
absl::StatusOr<UniqueFd> OpenInImageRoot(int root_fd, const std::string& path, int flags);

// Reads the regular file `path` inside the image root, at most `max_bytes`. A fifo, device,
// directory or larger file is an error naming the path: never a hang, never an endless read.
absl::StatusOr<std::string> ReadImageFile(int root_fd, const std::string& path, size_t max_bytes);

}  // namespace tide::profile

#endif  // TIDE_PROFILE_IMAGE_ROOT_FILE_H_
