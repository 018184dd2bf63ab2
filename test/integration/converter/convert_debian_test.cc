#include <catch2/catch.hpp>

#include "test/integration/converter/roundtrip_check.h"
#include "test/support/temp_dir.h"

using namespace tide::testing;

// The realistic image: a Debian 12 root filesystem (mmdebstrap) in gzip, zstd and plain layers
// plus the edge-case layer.
TEST_CASE("Debian root filesystem image converts losslessly", "[converter][roundtrip][debian]") {
  TempDir out("tide-convert");
  std::string dst = (out / "layout").string();
  auto r = Tidectl({"convert", "oci:" + TestImagesDir() + "/debian:bookworm", "oci:" + dst + ":tide"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(CheckRoundTrip(TestImagesDir() + "/debian", "bookworm", dst, "tide") == 4);
}
