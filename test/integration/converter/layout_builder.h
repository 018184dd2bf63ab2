#ifndef TIDE_TEST_INTEGRATION_CONVERTER_LAYOUT_BUILDER_H_
#define TIDE_TEST_INTEGRATION_CONVERTER_LAYOUT_BUILDER_H_

#include <filesystem>
#include <string>
#include <vector>

#include "common/digest.h"
#include "oci/descriptor.h"

// Builds small OCI layouts with hand-made (and deliberately broken) layers for converter tests.
namespace tide::testing {

struct TarSpec {
  std::string name;
  char type = '0';  // ustar typeflag
  std::string content;
  std::string link;
  unsigned mode = 0644;
};

// A ustar archive (two zero blocks at the end unless `terminate` is false).
std::string MakeTar(const std::vector<TarSpec>& entries, bool terminate = true);
std::string GzipBytes(const std::string& data);
std::string ZstdBytes(const std::string& data);

struct LayerBlob {
  std::string blob;        // stored bytes
  std::string media_type;  // e.g. oci::kOciLayerGzip
  std::string tar;         // uncompressed tar, for the config's diff_id
};

// Writes config, layers and manifest into the layout at dir (created if needed) and tags it.
oci::Descriptor WriteImage(const std::filesystem::path& dir, const std::string& tag,
                           const std::vector<LayerBlob>& layers, const std::string& architecture = "amd64");
// Tags an OCI index over the given manifests (descriptors kept as given, platform fields included).
oci::Descriptor WriteIndex(const std::filesystem::path& dir, const std::string& tag,
                           const std::vector<oci::Descriptor>& manifests);
// Tags an arbitrary manifest document (for malformed-manifest tests).
oci::Descriptor WriteRawManifest(const std::filesystem::path& dir, const std::string& tag,
                                 const std::string& bytes);

}  // namespace tide::testing

#endif  // TIDE_TEST_INTEGRATION_CONVERTER_LAYOUT_BUILDER_H_
