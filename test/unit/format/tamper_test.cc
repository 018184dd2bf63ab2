#include <catch2/catch.hpp>

#include "format/blob_reader.h"
#include "format/chunk_decoder.h"
#include "format/footer.h"
#include "format/layer_index.h"
#include "test/unit/format/format_test_util.h"
#include "test/unit/format/synthetic_tar.h"

namespace tide::format {
namespace {

using testing::SyntheticTar;

testing::Converted Sample() {
  LayerWriterOptions options;
  options.chunk_size = 4096;
  options.small_file_threshold = 0;
  std::string content;
  for (int i = 0; i < 5000; ++i) content += std::to_string(i * 7919) + ",";
  return testing::ConvertTar(SyntheticTar().File("data", content).File("other", "x").Finish(), options);
}

TEST_CASE("a tampered chunk is rejected") {
  testing::Converted c = Sample();
  LayerIndex index = testing::LoadIndex(c);
  EntryId data = index.LookupPath("data");
  const ChunkInfo& chunk = index.chunk(index.attr(data).first_chunk + 1);
  std::string compressed = c.blob.substr(chunk.compressed_offset, chunk.compressed_size);
  REQUIRE(DecodeChunk(compressed, chunk).ok());
  // Corrupt a byte inside the compressed data (past the frame header).
  std::string bad = compressed;
  bad[bad.size() / 2] ^= 0x5a;
  CHECK_FALSE(DecodeChunk(bad, chunk).ok());
  // Valid zstd of different content: sha256 mismatch.
  ChunkInfo other = index.chunk(index.attr(data).first_chunk + 2);
  other.sha256 = chunk.sha256;
  std::string compressed_other = c.blob.substr(other.compressed_offset, other.compressed_size);
  auto st = DecodeChunk(compressed_other, other);
  REQUIRE_FALSE(st.ok());
  CHECK(std::string(st.status().message()).find("sha256") != std::string::npos);
  // Wrong length and truncated frames.
  CHECK_FALSE(DecodeChunk(compressed.substr(0, compressed.size() - 1), chunk).ok());
  ChunkInfo shorter = chunk;
  shorter.uncompressed_size -= 1;
  CHECK_FALSE(DecodeChunk(compressed, shorter).ok());

  // Through the range reader the error names the file.
  std::string blob = c.blob;
  blob[chunk.compressed_offset + chunk.compressed_size / 2] ^= 0x5a;
  StringRangeReader reader(blob);
  auto read = ReadFileRange(reader, index, data, 0, index.attr(data).size);
  REQUIRE_FALSE(read.ok());
  CHECK(std::string(read.status().message()).find("'data'") != std::string::npos);
  // Untouched chunks still read fine.
  CHECK(ReadFileRange(reader, index, data, 0, 100).ok());
}

TEST_CASE("a tampered index or footer is rejected") {
  testing::Converted c = Sample();
  const auto& r = c.result;
  std::string frame = c.blob.substr(r.index_offset, r.index_size);
  REQUIRE(LayerIndex::Parse(frame, r.index_digest).ok());
  for (size_t pos : {size_t{0}, size_t{5}, size_t{9}, frame.size() / 2, frame.size() - 1}) {
    std::string bad = frame;
    bad[pos] ^= 1;
    auto parsed = LayerIndex::Parse(bad, r.index_digest);
    REQUIRE_FALSE(parsed.ok());
    CHECK(std::string(parsed.status().message()).find("digest mismatch") != std::string::npos);
    // Without the digest the damage is still caught by framing, zstd or validation, never a crash.
    (void)LayerIndex::ParseUnverified(bad);
  }
  CHECK_FALSE(LayerIndex::ParseUnverified(frame.substr(0, frame.size() - 3)).ok());

  std::string footer = c.blob.substr(c.blob.size() - kFooterSize);
  REQUIRE(ParseFooter(footer, c.blob.size()).ok());
  for (size_t pos = 0; pos < 40; ++pos) {
    std::string bad = footer;
    bad[pos] ^= 0x40;
    CHECK_FALSE(ParseFooter(bad, c.blob.size()).ok());
  }
  // A footer whose index hash does not match the index.
  std::string blob = c.blob;
  blob[blob.size() - 1] ^= 1;
  StringRangeReader reader(blob);
  CHECK_FALSE(LoadIndexFromFooter(reader, blob.size()).ok());
  // A callback reader (as over HTTP ranges) that returns short data is caught too.
  CallbackRangeReader short_reads([&](uint64_t offset, size_t size, std::string* out) {
    *out = c.blob.substr(offset, size > 1 ? size - 1 : size);
    return absl::OkStatus();
  });
  CHECK_FALSE(LoadIndexFromFooter(short_reads, c.blob.size()).ok());
  // Annotations pointing to the wrong place.
  StringRangeReader good(c.blob);
  CHECK_FALSE(LoadIndexAt(good, r.index_offset + 1, r.index_size, r.index_digest).ok());
  CHECK_FALSE(LoadIndexAt(good, r.index_offset, r.index_size + 1, r.index_digest).ok());
}

}  // namespace
}  // namespace tide::format
