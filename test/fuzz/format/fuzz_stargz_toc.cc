// libFuzzer target: the stargz JSON TOC (eStargz and zstd:chunked) into the entry table, and the
// framing around it: the eStargz footer and TOC member, the zstd:chunked footer, bounded zstd.
// The seeds are TOCs `ctr-remote images convert --estargz` wrote, and one skopeo's zstd:chunked
// (containers/storage's writer) wrote.

#include <cstdint>
#include <string>
#include <string_view>

#include "format/blob_reader.h"
#include "format/estargz/estargz_footer.h"
#include "format/estargz/estargz_reader.h"
#include "format/estargz/stargz_toc_index.h"
#include "format/zstd_chunked/zstd_chunked_footer.h"
#include "format/zstd_stream.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace tide::format;

void Exercise(const LayerIndex& index) {
  FUZZ_CHECK(index.attr(kRootEntry).type == EntryType::kDirectory);
  for (EntryId id = 0; id < index.entry_count(); ++id) {
    const EntryAttr& a = index.attr(id);
    (void)index.path(id);
    if (a.type != EntryType::kRegular) continue;
    ChunkRange range = index.ChunksFor(id, 0, a.size);
    FUZZ_CHECK(range.first + range.count <= index.chunks().size());
  }
  for (size_t i = 0; i + 1 < index.chunks().size(); ++i) {
    FUZZ_CHECK(index.chunk(i).compressed_offset + index.chunk(i).compressed_size ==
               index.chunk(i + 1).compressed_offset);
  }
  for (uint32_t c : index.startup_chunks()) FUZZ_CHECK(c < index.chunks().size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  IndexLimits limits;
  limits.max_memory = 64 << 20;
  for (LayerFormat format : {LayerFormat::kEstargz, LayerFormat::kZstdChunked}) {
    auto index = IndexFromStargzToc(input, uint64_t{1} << 32, format, limits);
    if (index.ok()) Exercise(*index);
  }
  (void)ParseEstargzFooter(input.substr(0, kEstargzFooterSize), uint64_t{1} << 20);
  (void)ParseZstdChunkedFooter(input.substr(0, kZstdChunkedTailSize), uint64_t{1} << 20);
  (void)EstargzTocJson(input, limits);
  (void)DecompressZstdBounded(input, 1 << 20);
  // The whole input as a blob: the footer at its end decides the format; the TOC digest cannot match.
  StringRangeReader reader(input);
  (void)LoadStargzTocLayerIndex(reader, input.size(), tide::Digest::Of("no TOC"), limits);
  return 0;
}
