#ifndef TIDE_TEST_INTEGRATION_REGISTRY_TEST_IMAGE_H_
#define TIDE_TEST_INTEGRATION_REGISTRY_TEST_IMAGE_H_

#include <string>
#include <vector>

#include "common/digest.h"
#include "registry/registry_client.h"

namespace tide::registry::testing {

std::string RandomBytes(size_t size, uint32_t seed);

struct TestBlob {
  std::string bytes;
  Digest digest;
};
TestBlob MakeBlob(size_t size, uint32_t seed);

// An image manifest (OCI) over a config and layers; pushes everything and tags it.
struct PushedImage {
  std::vector<TestBlob> layers;
  TestBlob config;
  std::string manifest;
  Digest manifest_digest;
};
PushedImage PushRandomImage(RegistryClient& client, const Reference& ref, std::vector<size_t> layer_sizes,
                            uint32_t seed);

}  // namespace tide::registry::testing

#endif  // TIDE_TEST_INTEGRATION_REGISTRY_TEST_IMAGE_H_
