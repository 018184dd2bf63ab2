// libFuzzer target: gzip side indexes. An input that starts like an index frame is loaded as the
// side index of a blob of zeros with the digest and size it names (so the loader gets past the
// binding checks), and every chunk is inflated from its checkpoint; any other input is indexed as a
// gzip blob. The seeds are a gzipped tar and its side index (fuzz_smoke.sh).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/digest.h"
#include "format/chunk_decoder.h"
#include "format/gzip_index/gzip_index_builder.h"
#include "format/gzip_index/gzip_index_reader.h"
#include "format/index_loader.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace tide::format;

void LoadAsIndex(std::string_view input) {
  IndexLimits limits;
  limits.max_memory = 64 << 20;
  auto raw = DecompressIndexFrame(input, limits.max_memory);
  if (!raw.ok()) return;
  tide::format::v1::LayerIndex pb;
  if (!pb.ParseFromString(*raw)) return;
  auto layer = tide::Digest::Parse(pb.gzip_layer_digest());
  if (!layer.ok() || pb.gzip_blob_size() > (1 << 20)) return;
  auto index = LoadGzipIndex(input, *layer, pb.gzip_blob_size(), limits);
  if (!index.ok()) return;
  FUZZ_CHECK(index->checkpoints() != nullptr);
  FUZZ_CHECK(index->data_end() + 8 == pb.gzip_blob_size());
  const std::string zeros(static_cast<size_t>(pb.gzip_blob_size()), '\0');
  std::string out;
  for (uint32_t i = 0; i < index->chunks().size() && i < 64; ++i) {
    const ChunkInfo& c = index->chunk(i);
    FUZZ_CHECK(c.compressed_offset + c.compressed_size <= zeros.size());
    (void)DecodeIndexChunk(*index, i, std::string_view(zeros).substr(c.compressed_offset, c.compressed_size),
                           &out);
    FUZZ_CHECK(out.size() <= c.uncompressed_size);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  LoadAsIndex(input);
  StringSource source(input);
  GzipIndexOptions options;
  options.spacing.compressed_bytes = 512;
  options.spacing.min_uncompressed_bytes = 0;
  options.spacing.uncompressed_bytes = 4096;
  auto built = BuildGzipIndex(source, tide::Digest::Of(input), options);
  if (built.ok()) {
    auto index = LoadGzipIndex(built->frame, tide::Digest::Of(input), input.size());
    FUZZ_CHECK(index.ok());
    for (uint32_t i = 0; index.ok() && i < index->chunks().size(); ++i) {
      const ChunkInfo& c = index->chunk(i);
      FUZZ_CHECK(DecodeIndexChunk(*index, i, input.substr(c.compressed_offset, c.compressed_size)).ok());
    }
  }
  return 0;
}
