// libFuzzer target: the index frame parser, the in-memory index it builds, and the footer parser.
// Every input is tried twice: as a raw index frame (framing and zstd checks), and as the LayerIndex
// protobuf wrapped the way the writer frames it (so mutations reach the validation logic).

#include <zstd.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "format/footer.h"
#include "format/layer_index.h"
#include "format/le_bytes.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace tide::format;

void Exercise(const absl::StatusOr<LayerIndex>& parsed) {
  if (!parsed.ok()) return;
  const LayerIndex& index = *parsed;
  FUZZ_CHECK(index.attr(kRootEntry).type == EntryType::kDirectory);
  for (EntryId id = 0; id < index.entry_count(); ++id) {
    const EntryAttr& a = index.attr(id);
    (void)index.path(id);
    (void)index.uname(id);
    (void)index.gname(id);
    for (const Xattr& x : index.xattrs(id)) FUZZ_CHECK(!x.key.empty());
    if (a.type == EntryType::kDirectory) {
      std::string_view previous;
      bool first = true;
      for (EntryId child : index.children(id)) {
        FUZZ_CHECK(index.parent(child) == id);
        FUZZ_CHECK(first || previous < index.name(child));
        FUZZ_CHECK(index.Lookup(id, index.name(child)) == index.Resolve(child));
        previous = index.name(child);
        first = false;
      }
    }
    if (a.type == EntryType::kRegular && a.size > 0) {
      ChunkRange r = index.ChunksFor(id, 0, a.size);
      FUZZ_CHECK(r.first == a.first_chunk && r.count == a.chunk_count);
      FUZZ_CHECK(r.first + r.count <= index.chunks().size());
      ChunkRange tail = index.ChunksFor(id, a.size - 1, 100);
      FUZZ_CHECK(tail.count == 1);
    }
  }
  for (uint32_t c : index.startup_chunks()) FUZZ_CHECK(c < index.chunks().size());
}

std::string WrapAsFrame(std::string_view proto) {
  std::string frame(8 + ZSTD_compressBound(proto.size()), '\0');
  size_t n = ZSTD_compress(frame.data() + 8, frame.size() - 8, proto.data(), proto.size(), 1);
  if (ZSTD_isError(n)) return {};
  frame.resize(8 + n);
  std::string header;
  PutLe32(&header, kIndexFrameMagic);
  PutLe32(&header, static_cast<uint32_t>(n));
  frame.replace(0, 8, header);
  return frame;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Exercise(LayerIndex::ParseUnverified(input));
  Exercise(LayerIndex::ParseUnverified(WrapAsFrame(input)));
  if (size >= kFooterSize) {
    auto footer = ParseFooter(input.substr(0, kFooterSize), size);
    if (footer.ok()) FUZZ_CHECK(footer->index_offset + footer->index_size <= size - kFooterSize);
  }
  return 0;
}
