#include "format/chunk_stream_decoder.h"

#include <zstd.h>

#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "format/chunk_decoder.h"

namespace tide::format {
namespace {

std::string Compress(const std::string& raw) {
  std::string frame(ZSTD_compressBound(raw.size()), '\0');
  frame.resize(ZSTD_compress(frame.data(), frame.size(), raw.data(), raw.size(), 3));
  return frame;
}

std::string RandomText(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>('a' + rng() % 12);  // compressible, many blocks
  return s;
}

ChunkInfo InfoOf(const std::string& raw, const std::string& frame) {
  ChunkInfo c;
  c.compressed_offset = 4096;
  c.compressed_size = static_cast<uint32_t>(frame.size());
  c.uncompressed_size = static_cast<uint32_t>(raw.size());
  c.sha256 = Sha256Of(raw);
  return c;
}

// Feeds `frame` in pieces of `piece` bytes; the first error, or the result.
absl::StatusOr<std::string> Stream(ChunkStreamDecoder& d, const ChunkInfo& c, std::string_view frame,
                                   size_t piece) {
  d.Start(c);
  for (size_t at = 0; at < frame.size(); at += piece) {
    absl::Status st = d.Feed(frame.substr(at, piece));
    if (!st.ok()) return st;
  }
  absl::StatusOr<std::string_view> out = d.Finish();
  if (!out.ok()) return out.status();
  return std::string(*out);
}

TEST_CASE("a chunk fed in pieces of any size decodes to what a whole-chunk decode gives") {
  const std::string raw = RandomText(2 << 20, 1);
  const std::string frame = Compress(raw);
  const ChunkInfo c = InfoOf(raw, frame);
  REQUIRE(DecodeChunk(frame, c).ok());
  ChunkStreamDecoder d;
  for (size_t piece : {size_t{1} << 20, size_t{16384}, size_t{4093}, frame.size()}) {
    absl::StatusOr<std::string> out = Stream(d, c, frame, piece);
    REQUIRE(out.ok());
    CHECK(*out == raw);
  }
  SECTION("one decoder goes on to a smaller chunk, and back") {
    const std::string small = RandomText(1000, 2);
    const std::string small_frame = Compress(small);
    CHECK(*Stream(d, InfoOf(small, small_frame), small_frame, 100) == small);
    CHECK(*Stream(d, c, frame, 65536) == raw);
  }
  SECTION("starting over in the middle of a chunk drops what was fed") {
    d.Start(c);
    REQUIRE(d.Feed(std::string_view(frame).substr(0, frame.size() / 2)).ok());
    CHECK(*Stream(d, c, frame, 30000) == raw);
  }
}

TEST_CASE("a streamed chunk is refused for each way its bytes can be wrong") {
  const std::string raw = RandomText(300000, 3);
  const std::string frame = Compress(raw);
  const ChunkInfo c = InfoOf(raw, frame);
  ChunkStreamDecoder d;
  auto refused = [&](const ChunkInfo& info, const std::string& bytes, std::string_view why) {
    absl::StatusOr<std::string> out = Stream(d, info, bytes, 5000);
    REQUIRE_FALSE(out.ok());
    CHECK(absl::IsDataLoss(out.status()));
    CHECK(std::string(out.status().message()).find(why) != std::string::npos);
  };
  SECTION("a flipped byte") {
    std::string bad = frame;
    bad[bad.size() / 2] ^= 0x21;
    absl::StatusOr<std::string> out = Stream(d, c, bad, 5000);
    CHECK(absl::IsDataLoss(out.status()));
  }
  SECTION("another chunk's bytes of the same length") {
    ChunkInfo other = c;
    other.sha256 = Sha256Of(RandomText(300000, 4));
    refused(other, frame, "sha256");
  }
  SECTION("the frame cut short") {
    ChunkInfo shorter = c;
    shorter.compressed_size -= 1;
    refused(shorter, frame.substr(0, frame.size() - 1), "cut short");
  }
  SECTION("bytes after the frame") {
    const std::string two = frame + Compress("more");
    ChunkInfo longer = c;
    longer.compressed_size = static_cast<uint32_t>(two.size());
    refused(longer, two, "one zstd frame");
  }
  SECTION("more output than the index says, and none of it written past the chunk") {
    ChunkInfo smaller = c;
    smaller.uncompressed_size = 100000;
    absl::StatusOr<std::string> out = Stream(d, smaller, frame, 5000);
    CHECK(absl::IsDataLoss(out.status()));
  }
  SECTION("less output than the index says") {
    ChunkInfo larger = c;
    larger.uncompressed_size += 1;
    refused(larger, frame, "decompressed size");
  }
  SECTION("more compressed bytes than the chunk has") {
    d.Start(c);
    REQUIRE(d.Feed(frame).ok());
    CHECK(absl::IsDataLoss(d.Feed("x")));
  }
  SECTION("not every byte fed") {
    d.Start(c);
    REQUIRE(d.Feed(std::string_view(frame).substr(0, frame.size() - 10)).ok());
    CHECK(absl::IsDataLoss(d.Finish().status()));
  }
  SECTION("garbage") { refused(c, std::string(frame.size(), 'z'), "zstd"); }
}

}  // namespace
}  // namespace tide::format
