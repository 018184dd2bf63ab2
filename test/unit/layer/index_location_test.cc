// The tide.index-* annotations are the image author's: they must be bounded before they size
// anything (a huge index-size once made the daemon die of std::bad_alloc before any request).

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <utility>

#include "format/annotations.h"
#include "format/index_limits.h"
#include "format/zstd_chunked/containers_storage_toc.h"
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
  CHECK_THAT(std::string(where.status().message()), Catch::Contains("size 1000000000000, outside 1.."));
}

TEST_CASE("an index outside the blob is refused, overflow included") {
  CHECK_FALSE(IndexLocationFromAnnotations(Annotations("900", "200"), 1000).ok());
  CHECK_FALSE(IndexLocationFromAnnotations(Annotations("18446744073709551615", "16"), 1000).ok());
  CHECK_FALSE(IndexLocationFromAnnotations(Annotations("-1", "16"), 1000).ok());
}

TEST_CASE("containers/storage's zstd:chunked annotations locate its TOC, bounded like a tide index") {
  const std::string checksum = "sha256:" + std::string(64, 'b');
  for (const auto& [checksum_key, position_key] :
       {std::pair(format::kContainersStorageTocChecksumAnnotation,
                  format::kContainersStorageTocPositionAnnotation),
        std::pair(format::kContainersStorageTocChecksumLabel, format::kContainersStorageTocPositionLabel)}) {
    std::map<std::string, std::string> labels = {{std::string(checksum_key), checksum},
                                                 {std::string(position_key), "300466:399:1485:1"}};
    auto where = IndexLocationFromAnnotations(labels, 300913);
    REQUIRE(where.ok());
    CHECK(where->format == format::LayerFormat::kZstdChunked);
    CHECK(where->offset == 300466);
    CHECK(where->size == 399);
    CHECK(where->digest.str() == checksum);
    labels[std::string(position_key)] = "300466:399:1485:1";
    CHECK_FALSE(IndexLocationFromAnnotations(labels, 300000).ok());  // past the blob's end
    labels[std::string(position_key)] = "0:999999999:1:1";
    CHECK_FALSE(IndexLocationFromAnnotations(labels, 0).ok());
    labels[std::string(position_key)] = "300466:399:1485:1";
    labels[std::string(checksum_key)] = "md5:abc";
    CHECK_FALSE(IndexLocationFromAnnotations(labels, 0).ok());
  }
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
  CHECK_THAT(std::string(index.status().message()), Catch::Contains("outside 1.."));
}

}  // namespace
}  // namespace tide::layer
