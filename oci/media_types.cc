#include "oci/media_types.h"

#include <array>

namespace tide::oci {

namespace {

constexpr std::array<std::string_view, 11> kLayerTypes = {
    kOciLayerTar,
    kOciLayerGzip,
    kOciLayerZstd,
    kOciLayerNondistTar,
    kOciLayerNondistGzip,
    kOciLayerNondistZstd,
    kDockerLayerGzip,
    kDockerLayerTar,
    kDockerLayerZstd,
    kDockerForeignLayerGzip,
    "application/vnd.docker.image.rootfs.foreign.diff.tar"};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

bool IsIndex(std::string_view media_type) {
  return media_type == kOciIndex || media_type == kDockerManifestList;
}

bool IsManifest(std::string_view media_type) {
  return media_type == kOciManifest || media_type == kDockerManifest;
}

bool IsConfig(std::string_view media_type) { return media_type == kOciConfig || media_type == kDockerConfig; }

bool IsLayer(std::string_view media_type) {
  for (std::string_view t : kLayerTypes) {
    if (media_type == t) return true;
  }
  return false;
}

bool IsNondistributable(std::string_view media_type) {
  return media_type.find(".nondistributable.") != std::string_view::npos ||
         media_type.find(".foreign.") != std::string_view::npos;
}

Compression LayerCompression(std::string_view media_type) {
  if (EndsWith(media_type, "+gzip") || EndsWith(media_type, ".tar.gzip")) return Compression::kGzip;
  if (EndsWith(media_type, "+zstd") || EndsWith(media_type, ".tar.zstd")) return Compression::kZstd;
  return Compression::kNone;
}

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kNone:
      break;
  }
  return "none";
}

}  // namespace tide::oci
