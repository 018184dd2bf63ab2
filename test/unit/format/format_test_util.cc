#include "test/unit/format/format_test_util.h"

#include <zstd.h>

#include <catch2/catch.hpp>

#include "format/blob_reader.h"
#include "format/byte_io.h"
#include "format/footer.h"
#include "format/le_bytes.h"
#include "format/tar_reader.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace tide::testing {

Converted ConvertTar(const std::string& tar, const format::LayerWriterOptions& options) {
  format::StringSource source(tar);
  format::StringSink sink;
  auto result = format::WriteLayer(source, sink, options);
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return {std::move(sink.data()), std::move(*result)};
}

std::string ZstdCliDecompress(const std::string& blob) {
  TempDir dir("tide-zstd");
  WriteFile(dir / "blob.zst", blob);
  CommandResult r =
      RunCommand({"zstd", "-q", "-d", "-f", (dir / "blob.zst").string(), "-o", (dir / "out").string()});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return ReadFile(dir / "out");
}

format::LayerIndex LoadIndex(const Converted& c) {
  format::StringRangeReader reader(c.blob);
  auto by_footer = format::LoadIndexFromFooter(reader, c.blob.size());
  INFO(by_footer.status().ToString());
  REQUIRE(by_footer.ok());
  auto by_annotation =
      format::LoadIndexAt(reader, c.result.index_offset, c.result.index_size, c.result.index_digest);
  INFO(by_annotation.status().ToString());
  REQUIRE(by_annotation.ok());
  REQUIRE(by_annotation->entry_count() == by_footer->entry_count());
  return std::move(*by_annotation);
}

std::map<std::string, std::string> FileContents(const std::string& tar) {
  std::map<std::string, std::string> files;
  format::StringSource source(tar);
  format::TarReader reader(source);
  format::TarEntry e;
  while (true) {
    auto more = reader.Next(&e);
    REQUIRE(more.ok());
    if (!*more) break;
    if (e.type != format::EntryType::kRegular) {
      files.erase(e.path);
      continue;
    }
    std::string content(e.size, '\0');
    size_t done = 0;
    while (done < content.size()) {
      auto n = reader.ReadData(content.data() + done, content.size() - done);
      REQUIRE(n.ok());
      done += *n;
    }
    files[e.path] = std::move(content);
  }
  return files;
}

void CheckAllFileReads(const Converted& c, const format::LayerIndex& index,
                       const std::map<std::string, std::string>& expected) {
  format::StringRangeReader reader(c.blob);
  for (const auto& [path, content] : expected) {
    INFO("file " << path);
    format::EntryId id = index.LookupPath(path);
    REQUIRE(id != format::kNoEntry);
    REQUIRE(index.attr(id).size == content.size());
    auto whole = format::ReadFileRange(reader, index, id, 0, content.size() + 10);
    REQUIRE(whole.ok());
    REQUIRE(*whole == content);
    // Ranges that start just before, at and after every chunk boundary inside the file.
    const auto& attr = index.attr(id);
    for (uint32_t k = 0; k < attr.chunk_count; ++k) {
      const auto& chunk = index.chunk(attr.first_chunk + k);
      uint64_t edge =
          chunk.uncompressed_offset > attr.data_offset ? chunk.uncompressed_offset - attr.data_offset : 0;
      for (uint64_t start : {edge > 0 ? edge - 1 : 0, edge, edge + 1}) {
        if (start >= content.size()) continue;
        for (uint64_t len : {uint64_t{1}, uint64_t{2}, uint64_t{4097}}) {
          auto part = format::ReadFileRange(reader, index, id, start, len);
          REQUIRE(part.ok());
          REQUIRE(*part == content.substr(start, len));
        }
      }
    }
  }
}

std::string FrameIndex(const tide::format::v1::LayerIndex& pb) {
  std::string raw = pb.SerializeAsString();
  std::string payload(ZSTD_compressBound(raw.size()), '\0');
  payload.resize(ZSTD_compress(payload.data(), payload.size(), raw.data(), raw.size(), 19));
  std::string frame;
  format::PutLe32(&frame, format::kIndexFrameMagic);
  format::PutLe32(&frame, static_cast<uint32_t>(payload.size()));
  return frame + payload;
}

}  // namespace tide::testing
