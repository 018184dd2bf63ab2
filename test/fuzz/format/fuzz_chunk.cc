// libFuzzer target: the chunk decoder, which turns bytes from the registry into cache contents.
// Input: 1 mode byte, 4 bytes of claimed uncompressed size (LE), 32 bytes of claimed sha256, then the
// compressed bytes. In "honest" mode (odd mode byte) the claimed size and digest are replaced with
// those of what plain zstd makes of the bytes, so the accepting path is reached too. Whatever is
// accepted must be exactly the claimed size and hash to the claimed digest, and agree with zstd.

#include <zstd.h>

#include <cstring>
#include <string>
#include <string_view>

#include "common/sha256.h"
#include "format/chunk_decoder.h"
#include "format/layer_index.h"
#include "test/fuzz/fuzz_check.h"

namespace {

constexpr size_t kHeader = 1 + 4 + 32;
constexpr size_t kMaxOut = 1 << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tide::format::ChunkInfo;
  if (size < kHeader) return 0;
  std::string_view compressed(reinterpret_cast<const char*>(data) + kHeader, size - kHeader);
  ChunkInfo chunk;
  uint32_t claimed = 0;
  std::memcpy(&claimed, data + 1, 4);
  chunk.uncompressed_size = claimed % (kMaxOut + 1);
  std::memcpy(chunk.sha256.data(), data + 5, 32);
  chunk.compressed_size = static_cast<uint32_t>(compressed.size());
  std::string plain(kMaxOut, '\0');
  size_t n = ZSTD_decompress(plain.data(), plain.size(), compressed.data(), compressed.size());
  const bool zstd_ok = !ZSTD_isError(n);
  if ((data[0] & 1) != 0 && zstd_ok) {
    plain.resize(n);
    chunk.uncompressed_size = static_cast<uint32_t>(n);
    chunk.sha256 = tide::Sha256Of(plain);
  }
  auto out = tide::format::DecodeChunk(compressed, chunk);
  if (!out.ok()) return 0;
  FUZZ_CHECK(out->size() == chunk.uncompressed_size);
  FUZZ_CHECK(tide::Sha256Of(*out) == chunk.sha256);
  if (zstd_ok) FUZZ_CHECK((data[0] & 1) == 0 || *out == plain);
  return 0;
}
