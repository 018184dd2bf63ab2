// libFuzzer target: the image manifest, image index and image config parsers (registry bytes). An
// accepted document must serialize to bytes that parse again to the same serialization.

#include <string_view>

#include "oci/image_config.h"
#include "oci/index.h"
#include "oci/manifest.h"
#include "test/fuzz/fuzz_check.h"

namespace {

template <typename Doc>
void RoundTrip(std::string_view json) {
  auto doc = Doc::Parse(json);
  if (!doc.ok()) return;
  const std::string once = doc->Serialize();
  auto again = Doc::Parse(once);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->Serialize() == once);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  RoundTrip<tide::oci::Manifest>(json);
  RoundTrip<tide::oci::Index>(json);
  RoundTrip<tide::oci::ImageConfig>(json);
  return 0;
}
