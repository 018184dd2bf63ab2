// zstd:chunked as Debian's skopeo (containers/storage) really writes it, read by tide's TOC loader
// from the blob: a file with a long run of zeros gets a `chunkType: zeros` chunk, which still has
// its bytes in the blob and a chunkDigest, so it is served and checked as any other chunk.

#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "format/blob_reader.h"
#include "format/layer_index.h"
#include "format/zstd_chunked/containers_storage_toc.h"
#include "oci/manifest.h"
#include "oci/oci_layout.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace tide::format {
namespace {

// Builds a one-layer image of `files` (written by the shell commands) with umoci and copies it with
// skopeo as zstd:chunked into dir/zstd. Returns the layer's blob and descriptor.
struct SkopeoLayer {
  std::string blob;
  oci::Descriptor descriptor;
};

SkopeoLayer BuildWithSkopeo(const testing::TempDir& dir, const std::string& make_files) {
  const std::string d = dir.path().string();
  auto made = testing::RunShell(absl::StrCat(
      "set -e; cd '", d, "'; umoci init --layout src >/dev/null; umoci new --image src:v1;",
      "umoci unpack --rootless --image src:v1 b >/dev/null; mkdir -p b/rootfs/data; cd b/rootfs/data;",
      make_files, "; cd '", d, "'; umoci repack --image src:v1 b >/dev/null;",
      "skopeo copy -q --dest-compress-format zstd:chunked oci:src:v1 oci:zstd:v1"));
  INFO(made.output);
  REQUIRE(made.exit_code == 0);
  auto layout = oci::OciLayout::Open(dir / "zstd");
  REQUIRE(layout.ok());
  auto manifest = oci::Manifest::Parse(*layout->ReadBlob(layout->Resolve("v1")->digest));
  REQUIRE(manifest.ok());
  REQUIRE(manifest->layers.size() == 1);
  SkopeoLayer out{*layout->ReadBlob(manifest->layers[0].digest), manifest->layers[0]};
  return out;
}

TEST_CASE("a skopeo zstd:chunked layer with zero runs is served file by file, verified",
          "[format][zstdchunked]") {
  testing::TempDir dir("cs-zeros");
  const SkopeoLayer layer = BuildWithSkopeo(
      dir,
      "head -c 1000000 /dev/urandom > holey.bin; head -c 4000000 /dev/zero >> holey.bin;"
      "head -c 1000000 /dev/urandom >> holey.bin; truncate -s 8M sparse.bin; echo hello > small.txt");
  const auto& annotations = layer.descriptor.annotations;
  auto position = ParseContainersStorageTocPosition(
      annotations.at(std::string(kContainersStorageTocPositionAnnotation)), layer.blob.size());
  REQUIRE(position.ok());
  auto checksum = Digest::Parse(annotations.at(std::string(kContainersStorageTocChecksumAnnotation)));
  REQUIRE(checksum.ok());
  const std::string_view compressed = std::string_view(layer.blob).substr(position->offset, position->size);
  // The writer really marked the zero run (the TOC is JSON in one zstd frame).
  auto toc = testing::RunShell(absl::StrCat(
      "tail -c +", position->offset + 1, " '", (dir / "zstd" / "blobs" / "sha256").string(), "/",
      std::string(layer.descriptor.digest.hex()), "' | head -c ", position->size, " | zstd -dc"));
  REQUIRE(toc.exit_code == 0);
  CHECK(toc.output.find("\"chunkType\":\"zeros\"") != std::string::npos);

  auto index = LoadContainersStorageToc(compressed, position->offset, *checksum);
  REQUIRE(index.ok());
  StringRangeReader reader(layer.blob);
  const std::string data = (dir / "b" / "rootfs" / "data").string();
  for (const char* name : {"holey.bin", "sparse.bin", "small.txt"}) {
    const std::string expected = testing::ReadFile(absl::StrCat(data, "/", name));
    auto got = ReadFileRange(reader, *index, index->LookupPath(absl::StrCat("data/", name)), 0, 16 << 20);
    REQUIRE(got.ok());
    CHECK(*got == expected);
  }
  // The zero run's bytes are still checked: a flipped byte in its frame fails that read.
  const EntryAttr& holey = index->attr(index->LookupPath("data/holey.bin"));
  std::string bad = layer.blob;
  for (uint32_t c = holey.first_chunk; c < index->chunks().size(); ++c) {
    const ChunkInfo& chunk = index->chunk(c);
    if (chunk.uncompressed_size != 4000000) continue;
    bad[chunk.compressed_offset + chunk.compressed_size / 2] ^= 0x40;
    break;
  }
  REQUIRE(bad != layer.blob);
  StringRangeReader tampered(bad);
  CHECK_FALSE(ReadFileRange(tampered, *index, index->LookupPath("data/holey.bin"), 1000000, 4000000).ok());
}

}  // namespace
}  // namespace tide::format
