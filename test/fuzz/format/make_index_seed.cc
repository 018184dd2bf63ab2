// Writes seed inputs for format_fuzz_index: converts a tar (argv[1]) and writes the index frame
// (argv[2]) and the bare index protobuf (argv[3]); with argv[4] and argv[5], for
// format_fuzz_gzip_index, the tar gzipped and its gzip side index (and, beside them with a
// ".members" suffix, the same for the tar in three gzip members).
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "format/byte_io.h"
#include "format/gzip_index/gzip_index_builder.h"
#include "format/layer_writer.h"

namespace {

std::string Gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

int WriteGzipSeed(const std::string& blob, const std::string& blob_path, const std::string& index_path) {
  tide::format::StringSource source(blob);
  tide::format::GzipIndexOptions options;
  options.spacing.compressed_bytes = 256;
  options.spacing.min_uncompressed_bytes = 0;
  options.spacing.uncompressed_bytes = 2048;
  auto index = tide::format::BuildGzipIndex(source, tide::Digest::Of(blob), options);
  if (!index.ok()) {
    std::fprintf(stderr, "%s\n", index.status().ToString().c_str());
    return 1;
  }
  std::ofstream(blob_path, std::ios::binary) << blob;
  std::ofstream(index_path, std::ios::binary) << index->frame;
  return 0;
}

// One gzip member, and three (the tar cut in three), whose index marks member starts.
int WriteGzipSeeds(const std::string& tar, const std::string& blob_path, const std::string& index_path) {
  const size_t third = tar.size() / 3;
  const std::string members =
      Gzip(tar.substr(0, third)) + Gzip(tar.substr(third, third)) + Gzip(tar.substr(2 * third));
  if (WriteGzipSeed(Gzip(tar), blob_path, index_path) != 0) return 1;
  return WriteGzipSeed(members, blob_path + ".members", index_path + ".members");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 6) return 2;
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
  return argc == 6 ? WriteGzipSeeds(data, argv[4], argv[5]) : 0;
}
