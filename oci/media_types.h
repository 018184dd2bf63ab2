#ifndef TIDE_OCI_MEDIA_TYPES_H_
#define TIDE_OCI_MEDIA_TYPES_H_

#include <string_view>

namespace tide::oci {

// OCI image-spec media types.
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kOciLayerNondistTar =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr std::string_view kOciLayerNondistGzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view kOciLayerNondistZstd =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
inline constexpr std::string_view kOciEmpty = "application/vnd.oci.empty.v1+json";

// Docker image manifest v2 schema 2 media types.
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerLayerZstd = "application/vnd.docker.image.rootfs.diff.tar.zstd";
inline constexpr std::string_view kDockerForeignLayerGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

enum class Compression { kNone, kGzip, kZstd };

bool IsIndex(std::string_view media_type);
bool IsManifest(std::string_view media_type);
bool IsConfig(std::string_view media_type);
bool IsLayer(std::string_view media_type);
// Docker layer types are not self-describing about distribution; "foreign" and OCI nondistributable
// layers must not be pushed to another registry.
bool IsNondistributable(std::string_view media_type);

// The compression of a layer blob, from its media type. Only meaningful when IsLayer() is true.
Compression LayerCompression(std::string_view media_type);
std::string_view CompressionName(Compression c);

}  // namespace tide::oci

#endif  // TIDE_OCI_MEDIA_TYPES_H_
