#ifndef TIDE_FORMAT_ZSTD_CHUNKED_CONTAINERS_STORAGE_TOC_H_
#define TIDE_FORMAT_ZSTD_CHUNKED_CONTAINERS_STORAGE_TOC_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "format/index_limits.h"
#include "format/layer_index.h"

namespace tide::format {

// zstd:chunked as containers/storage writes it (podman, buildah, `skopeo copy --dest-compress-format
// zstd:chunked`): the same blob layout as stargz-snapshotter's, but the layer descriptor locates the
// TOC itself and commits to the sha256 of its compressed bytes, not of the JSON.
inline constexpr std::string_view kContainersStorageTocChecksumAnnotation =
    "io.containers.zstd-chunked.manifest-checksum";
// "<offset>:<compressed length>:<uncompressed length>:<type>"; type 1 is the JSON TOC.
inline constexpr std::string_view kContainersStorageTocPositionAnnotation =
    "io.containers.zstd-chunked.manifest-position";

// The same two under containerd's snapshot label prefix, as tidectl pull passes them: containerd hands
// a snapshotter only labels under containerd.io/snapshot/.
inline constexpr std::string_view kContainersStorageTocChecksumLabel =
    "containerd.io/snapshot/tide.zstd-chunked.manifest-checksum";
inline constexpr std::string_view kContainersStorageTocPositionLabel =
    "containerd.io/snapshot/tide.zstd-chunked.manifest-position";

struct ContainersStorageTocPosition {
  uint64_t offset = 0;  // of the zstd-compressed TOC, inside its skippable frame (8-byte header first)
  uint64_t size = 0;    // compressed
  uint64_t uncompressed_size = 0;
};

// Parses and bounds the position annotation: the compressed TOC at most kMaxIndexFrameSize, after
// its frame header, and (with a known `blob_size`, else 0) inside the blob.
absl::StatusOr<ContainersStorageTocPosition> ParseContainersStorageTocPosition(std::string_view text,
                                                                               uint64_t blob_size = 0);

// The layer's index from the compressed TOC bytes at `offset`: they must hash to `checksum` before
// they are decompressed (bounded by the index memory limit) and parsed.
absl::StatusOr<LayerIndex> LoadContainersStorageToc(std::string_view compressed, uint64_t offset,
                                                    const Digest& checksum, const IndexLimits& limits = {});

}  // namespace tide::format

#endif  // TIDE_FORMAT_ZSTD_CHUNKED_CONTAINERS_STORAGE_TOC_H_
