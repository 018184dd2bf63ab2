#ifndef TIDE_FORMAT_TAR_PATH_H_
#define TIDE_FORMAT_TAR_PATH_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "format/tar_entry.h"

namespace tide::format {

// Normalizes a tar member name: drops "./" and empty components and a trailing "/", so "./a//b/"
// becomes "a/b" and "./" becomes "" (the root). Rejects absolute names, ".." components and NUL bytes
// with an error that quotes the name (escaped).
absl::StatusOr<std::string> NormalizeTarPath(std::string_view raw);

// Sets e->path from e->raw_name and checks the link target: a hardlink's is normalized like a name
// (and must not be the root), a symlink's must not be empty, other entries get none.
absl::Status ResolveEntryPaths(TarEntry* e);

// True if `path` is already in normalized form (what the index stores).
bool IsNormalizedPath(std::string_view path);

}  // namespace tide::format

#endif  // TIDE_FORMAT_TAR_PATH_H_
