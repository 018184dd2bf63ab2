#ifndef TIDE_LAYER_XATTR_SHADOW_H_
#define TIDE_LAYER_XATTR_SHADOW_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "absl/status/status.h"
#include "fuse/layer_fs.h"

namespace tide::layer {

// Overlayfs asks a lower layer for its trusted.overlay.* marks on every directory it passes and
// every regular file it finds. FUSE cannot say "none here" for one inode, so a FUSE layer with even
// one xattr pays a round trip for each of those questions: thousands per container start. A layer
// whose xattrs are few and plain hands them to local directories instead:
// - "above", stacked right above the FUSE mount, holds each directory and regular file that has
//   xattrs (a copy, with the layer's owners, mode, times and xattrs; a file's other names as
//   hardlinks to it) and their parent directories;
// - "below", stacked right below it, holds each opaque directory, marked opaque, and its parents.
// The FUSE mount then answers the first GETXATTR with ENOSYS and the kernel answers the rest.
// Both live in <dir>/xattr-shadow, written under a temporary name and renamed into place whole.
struct XattrShadowLimits {
  size_t max_entries = 4096;              // entries with xattrs plus opaque directories
  uint64_t max_file_bytes = 16ull << 20;  // content of regular files with xattrs, copied
};

// OK when every xattr of the layer can live in a shadow; otherwise why not (FailedPrecondition):
// xattrs on entries other than directories and regular files, names outside user.*,
// security.capability and the POSIX ACLs, or more than the limits allow.
absl::Status CheckShadowable(const fuse::LayerFs& fs, const XattrShadowLimits& limits = {});

// Writes the shadow of `fs`'s layer into `dir` (replacing any there), reading file contents through
// `fs` (verified like any read). On error nothing is left in `dir`.
absl::Status BuildXattrShadow(fuse::LayerFs& fs, const std::filesystem::path& dir,
                              const XattrShadowLimits& limits = {});

// Whether `dir` holds a complete shadow.
bool HasXattrShadow(const std::filesystem::path& dir);
// Removes the shadow in `dir`, if any.
void RemoveXattrShadow(const std::filesystem::path& dir);

// The lower directories that stand for a layer mounted at `mountpoint`, top first: the mountpoint,
// with the shadow's parts beside it (in mountpoint's parent) when there is one.
std::vector<std::filesystem::path> ShadowedLowerDirs(const std::filesystem::path& mountpoint);

}  // namespace tide::layer

#endif  // TIDE_LAYER_XATTR_SHADOW_H_
