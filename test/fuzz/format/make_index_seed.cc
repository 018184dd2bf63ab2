// Writes seed inputs for format_fuzz_index: converts a tar (argv[1]) and writes the index frame
// (argv[2]) and the bare index protobuf (argv[3]).
#include <zstd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "format/byte_io.h"
#include "format/layer_writer.h"

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream tar;
  tar << in.rdbuf();
  std::string data = tar.str();
  tide::format::StringSource source(data);
  tide::format::StringSink sink;
  tide::format::LayerWriterOptions options;
  options.chunk_size = 4096;
  options.small_file_threshold = 1024;
  options.startup = {{"d/big", {}}};
  auto r = tide::format::WriteLayer(source, sink, options);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
    return 1;
  }
  std::string frame = sink.data().substr(r->index_offset, r->index_size);
  std::ofstream(argv[2], std::ios::binary) << frame;
  std::string proto(ZSTD_getFrameContentSize(frame.data() + 8, frame.size() - 8), '\0');
  ZSTD_decompress(proto.data(), proto.size(), frame.data() + 8, frame.size() - 8);
  std::ofstream(argv[3], std::ios::binary) << proto;
  return 0;
}
