#include "converter/decompressor.h"

#include <zlib.h>
#include <zstd.h>

#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "format/byte_io.h"

using tide::converter::NewDecompressor;
using tide::format::StringSource;
using tide::oci::Compression;

namespace {

std::string Gzip(const std::string& data) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Zstd(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string Payload(size_t size) {
  std::mt19937 rng(7);
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>(i % 97 < 50 ? 'a' + rng() % 4 : rng() % 256);
  return s;
}

absl::StatusOr<std::string> DecompressAll(Compression kind, const std::string& in, size_t step = 7000) {
  StringSource src(in);
  auto d = NewDecompressor(kind, src, "layer 1/1 sha256:test");
  std::string out;
  std::string buf(step, '\0');
  while (true) {
    auto n = d->Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    out.append(buf.data(), *n);
  }
  return out;
}

}  // namespace

TEST_CASE("gzip decompression handles single and multi-member streams", "[converter][decompress]") {
  std::string a = Payload(300000);
  std::string b = Payload(12345);
  auto one = DecompressAll(Compression::kGzip, Gzip(a));
  REQUIRE(one.ok());
  CHECK(*one == a);
  auto two = DecompressAll(Compression::kGzip, Gzip(a) + Gzip(b), 1);
  REQUIRE(two.ok());
  CHECK(*two == a + b);
}

TEST_CASE("zstd decompression handles multiple frames and skippable frames", "[converter][decompress]") {
  std::string a = Payload(200000);
  std::string b = Payload(5000);
  std::string skippable("\x50\x2a\x4d\x18\x04\x00\x00\x00skip", 12);
  auto out = DecompressAll(Compression::kZstd, Zstd(a) + skippable + Zstd(b));
  REQUIRE(out.ok());
  CHECK(*out == a + b);
  auto none = DecompressAll(Compression::kNone, a);
  REQUIRE(none.ok());
  CHECK(*none == a);
}

TEST_CASE("truncated or corrupt compressed streams are errors naming the layer", "[converter][decompress]") {
  std::string a = Payload(300000);
  std::string gz = Gzip(a);
  auto truncated_gz = DecompressAll(Compression::kGzip, gz.substr(0, gz.size() / 2));
  REQUIRE_FALSE(truncated_gz.ok());
  CHECK(std::string(truncated_gz.status().message()) == "layer 1/1 sha256:test: truncated gzip stream");

  std::string corrupt = gz;
  for (size_t i = 100; i < 140; ++i) corrupt[i] = static_cast<char>(~corrupt[i]);
  auto bad_gz = DecompressAll(Compression::kGzip, corrupt);
  REQUIRE_FALSE(bad_gz.ok());
  CHECK(std::string(bad_gz.status().message()).find("corrupt gzip data") != std::string::npos);

  std::string zs = Zstd(a);
  auto truncated_zs = DecompressAll(Compression::kZstd, zs.substr(0, zs.size() - 10));
  REQUIRE_FALSE(truncated_zs.ok());
  CHECK(std::string(truncated_zs.status().message()).find("truncated zstd stream") != std::string::npos);

  std::string bad = zs;
  bad[0] = 'X';
  auto bad_zs = DecompressAll(Compression::kZstd, bad);
  REQUIRE_FALSE(bad_zs.ok());
  CHECK(std::string(bad_zs.status().message()).find("corrupt zstd data") != std::string::npos);

  CHECK_FALSE(DecompressAll(Compression::kGzip, "").ok());
}
