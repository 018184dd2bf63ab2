// libFuzzer target: the streaming tar reader, and the writer's round trip on whatever it accepts:
// the blob's frames must decompress to exactly the input and the index must load.

#include <zstd.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "format/byte_io.h"
#include "format/layer_index.h"
#include "format/layer_writer.h"
#include "format/tar_reader.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace tide::format;

// Reads everything; returns whether the whole archive was accepted, and checks the reader hands out
// every byte.
bool ReadAll(std::string_view input) {
  StringSource source(input);
  TarReader reader(source);
  TarEntry e;
  char buf[4096];
  uint64_t seen = 0;
  while (true) {
    auto more = reader.Next(&e);
    if (!more.ok()) return false;
    if (!*more) break;
    seen += e.raw_header.size();
    FUZZ_CHECK(e.path.empty() || e.path.front() != '/');
    FUZZ_CHECK(e.path != ".." && e.path.rfind("../", 0) != 0 && e.path.find("/../") == std::string::npos &&
               (e.path.size() < 3 || e.path.compare(e.path.size() - 3, 3, "/..") != 0));
    while (true) {
      auto n = reader.ReadData(buf, sizeof(buf));
      if (!n.ok()) return false;
      if (*n == 0) break;
      seen += *n;
    }
    auto pad = reader.ReadPadding();
    if (!pad.ok()) return false;
    seen += pad->size();
  }
  while (true) {
    auto n = reader.ReadTrailer(buf, sizeof(buf));
    if (!n.ok()) return false;
    if (*n == 0) break;
    seen += *n;
  }
  FUZZ_CHECK(seen == input.size());
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!ReadAll(input)) return 0;
  StringSource source(input);
  StringSink sink;
  LayerWriterOptions options;
  options.chunk_size = 4096;
  options.small_file_threshold = 1024;
  options.threads = 1;
  auto result = WriteLayer(source, sink, options);
  if (!result.ok()) return 0;  // e.g. a hardlink to a missing file: rejected, which is fine
  const std::string& blob = sink.data();
  std::string out(input.size() + 1, '\0');
  size_t n = ZSTD_decompress(out.data(), out.size(), blob.data(), blob.size());
  FUZZ_CHECK(!ZSTD_isError(n) && n == input.size());
  FUZZ_CHECK(std::string_view(out.data(), n) == input);
  auto index = LayerIndex::Parse(std::string_view(blob).substr(result->index_offset, result->index_size),
                                 result->index_digest);
  FUZZ_CHECK(index.ok());
  return 0;
}
