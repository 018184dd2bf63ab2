#include "test/integration/registry/test_image.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <random>

#include "oci/media_types.h"

namespace tide::registry::testing {

std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = rng();
    for (size_t j = 0; j < 8 && i + j < size; ++j) out[i + j] = static_cast<char>(v >> (8 * j));
  }
  return out;
}

TestBlob MakeBlob(size_t size, uint32_t seed) {
  TestBlob b;
  b.bytes = RandomBytes(size, seed);
  b.digest = Digest::Of(b.bytes);
  return b;
}

PushedImage PushRandomImage(RegistryClient& client, const Reference& ref, std::vector<size_t> layer_sizes,
                            uint32_t seed) {
  PushedImage image;
  image.config.bytes = nlohmann::json{{"architecture", "amd64"}, {"os", "linux"}, {"seed", seed}}.dump();
  image.config.digest = Digest::Of(image.config.bytes);
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < layer_sizes.size(); ++i) {
    image.layers.push_back(MakeBlob(layer_sizes[i], seed * 100 + static_cast<uint32_t>(i)));
    const TestBlob& l = image.layers.back();
    auto pushed = client.PushBlob(ref, l.digest, l.bytes);
    INFO(pushed.status().ToString());
    REQUIRE(pushed.ok());
    layers.push_back({{"mediaType", std::string(oci::kOciLayerZstd)},
                      {"digest", l.digest.str()},
                      {"size", l.bytes.size()}});
  }
  auto pushed_config = client.PushBlob(ref, image.config.digest, image.config.bytes);
  INFO(pushed_config.status().ToString());
  REQUIRE(pushed_config.ok());
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", std::string(oci::kOciManifest)},
                             {"config",
                              {{"mediaType", std::string(oci::kOciConfig)},
                               {"digest", image.config.digest.str()},
                               {"size", image.config.bytes.size()}}},
                             {"layers", layers}};
  image.manifest = manifest.dump();
  auto digest = client.PushManifest(ref, image.manifest, oci::kOciManifest);
  INFO(digest.status().ToString());
  REQUIRE(digest.ok());
  image.manifest_digest = *digest;
  return image;
}

}  // namespace tide::registry::testing
