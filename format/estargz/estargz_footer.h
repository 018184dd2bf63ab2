#ifndef TIDE_FORMAT_ESTARGZ_ESTARGZ_FOOTER_H_
#define TIDE_FORMAT_ESTARGZ_ESTARGZ_FOOTER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace tide::format {

// The layer annotation that commits to the sha256 of an eStargz layer's TOC JSON. The manifest
// digest covers it, which is what makes the TOC (and through it every chunk) trustworthy.
inline constexpr std::string_view kEstargzTocDigestAnnotation = "containerd.io/snapshot/stargz/toc.digest";
// An eStargz blob ends with an empty gzip member whose extra field names the TOC's offset.
inline constexpr size_t kEstargzFooterSize = 51;
// Prioritized files (the startup set) come before this entry; a layer without one has none.
inline constexpr std::string_view kEstargzPrefetchLandmark = ".prefetch.landmark";

// Parses the footer (the blob's last 51 bytes) and returns where the TOC member starts, checked to
// lie inside a blob of `blob_size` bytes, before the footer.
absl::StatusOr<uint64_t> ParseEstargzFooter(std::string_view footer, uint64_t blob_size);

}  // namespace tide::format

#endif  // TIDE_FORMAT_ESTARGZ_ESTARGZ_FOOTER_H_
