#include "oci/media_types.h"

#include <catch2/catch.hpp>

using namespace tide::oci;

TEST_CASE("media types classify indexes, manifests and layers", "[oci]") {
  CHECK(IsIndex(kOciIndex));
  CHECK(IsIndex(kDockerManifestList));
  CHECK_FALSE(IsIndex(kOciManifest));
  CHECK(IsManifest(kDockerManifest));
  CHECK_FALSE(IsManifest(kOciConfig));
  CHECK(IsLayer(kDockerLayerGzip));
  CHECK(IsLayer(kOciLayerNondistZstd));
  CHECK_FALSE(IsLayer(kOciConfig));
  CHECK_FALSE(IsLayer("application/vnd.oci.image.layer.v1.tar+lz4"));
  CHECK(IsNondistributable(kDockerForeignLayerGzip));
  CHECK(IsNondistributable(kOciLayerNondistTar));
  CHECK_FALSE(IsNondistributable(kOciLayerGzip));
}

TEST_CASE("layer compression comes from the media type", "[oci]") {
  CHECK(LayerCompression(kOciLayerTar) == Compression::kNone);
  CHECK(LayerCompression(kDockerLayerTar) == Compression::kNone);
  CHECK(LayerCompression(kOciLayerGzip) == Compression::kGzip);
  CHECK(LayerCompression(kDockerLayerGzip) == Compression::kGzip);
  CHECK(LayerCompression(kDockerForeignLayerGzip) == Compression::kGzip);
  CHECK(LayerCompression(kOciLayerZstd) == Compression::kZstd);
  CHECK(LayerCompression(kOciLayerNondistZstd) == Compression::kZstd);
  CHECK(CompressionName(Compression::kZstd) == "zstd");
}
