// The tide.index-* annotations are the image author's: they must be bounded before they size
// anything (a huge index-size once made the daemon die of std::bad_alloc before any request).

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "format/annotations.h"
#include "format/index_limits.h"
#include "layer/layer_mount_manager.h"

namespace tide::layer {
namespace {

std::map<std::string, std::string> Annotations(const std::string& offset, const std::string& size) {
  return {{std::string(format::kAnnotationIndexOffset), offset},
          {std::string(format::kAnnotationIndexSize), size},
          {std::string(format::kAnnotationIndexDigest),
           "sha256:0000000000000000000000000000000000000000000000000000000000000000"}};
}

TEST_CASE("index annotations within the blob are accepted") {
  auto where = IndexLocationFromAnnotations(Annotations("100", "200"), 1000);
  REQUIRE(where.ok());
  CHECK(where->offset == 100);
  CHECK(where->size == 200);
}

TEST_CASE("a huge index size is refused, naming the annotation") {
  auto where = IndexLocationFromAnnotations(Annotations("0", "1000000000000"), 0);
  REQUIRE_FALSE(where.ok());
  CHECK_THAT(std::string(where.status().message()), Catch::Contains("size 1000000000000 exceeds"));
}

TEST_CASE("an index outside the blob is refused, overflow included") {
  CHECK_FALSE(IndexLocationFromAnnotations(Annotations("900", "200"), 1000).ok());
  CHECK_FALSE(IndexLocationFromAnnotations(Annotations("18446744073709551615", "16"), 1000).ok());
  CHECK_FALSE(IndexLocationFromAnnotations(Annotations("-1", "16"), 1000).ok());
}

TEST_CASE("a location from elsewhere is bounded again before its buffer is sized") {
  IndexLocation where;
  where.size = format::kMaxIndexFrameSize + 1;
  where.digest = Digest::Of("x");
  // No blob source is needed: the size is refused before anything is read.
  class NoBlob : public fetch::BlobSource {
   public:
    absl::StatusOr<std::string> ReadAt(uint64_t, uint64_t) override {
      FAIL("read before the size was checked");
      return std::string();
    }
    std::string Describe() const override { return "no blob"; }
  } blob;
  auto index = LoadLayerIndex(blob, where, nullptr);
  REQUIRE_FALSE(index.ok());
  CHECK_THAT(std::string(index.status().message()), Catch::Contains("exceeds"));
}

}  // namespace
}  // namespace tide::layer
