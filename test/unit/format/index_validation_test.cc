// The index loader must reject every inconsistency a malicious or buggy writer could produce, with a
// message that says what is wrong. Each case edits a valid index protobuf and re-frames it.

#include <zstd.h>

#include <catch2/catch.hpp>
#include <functional>

#include "format/footer.h"
#include "format/layer_index.h"
#include "format/le_bytes.h"
#include "test/unit/format/format_test_util.h"
#include "test/unit/format/synthetic_tar.h"
#include "tide/format/v1/layer_index.pb.h"

namespace tide::format {
namespace {

using Proto = tide::format::v1::LayerIndex;

Proto ValidProto() {
  std::string tar = testing::SyntheticTar()
                        .Dir("d")
                        .File("d/f", std::string(10000, 'f'))
                        .Hardlink("d/g", "d/f")
                        .Symlink("d/s", "f")
                        .Finish();
  LayerWriterOptions options;
  options.chunk_size = 4096;
  options.small_file_threshold = 0;
  testing::Converted c = testing::ConvertTar(tar, options);
  std::string frame = c.blob.substr(c.result.index_offset, c.result.index_size);
  std::string raw(ZSTD_getFrameContentSize(frame.data() + 8, frame.size() - 8), '\0');
  REQUIRE(ZSTD_decompress(raw.data(), raw.size(), frame.data() + 8, frame.size() - 8) == raw.size());
  Proto pb;
  REQUIRE(pb.ParseFromString(raw));
  return pb;
}

TEST_CASE("the index loader rejects inconsistent indexes") {
  const Proto valid = ValidProto();
  REQUIRE(LayerIndex::ParseUnverified(testing::FrameIndex(valid)).ok());
  struct Case {
    const char* what;
    std::function<void(Proto&)> edit;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"unknown version", [](Proto& p) { p.set_version(2); }, "version"},
      {"short column", [](Proto& p) { p.mutable_modes()->RemoveLast(); }, "different lengths"},
      {"path bytes left over", [](Proto& p) { p.mutable_paths()->append("x"); }, "trailing data"},
      {"path lengths overrun", [](Proto& p) { p.set_path_lengths(0, 1000); }, "exceed"},
      {"dot-dot path",
       [](Proto& p) {
         p.set_paths("..");
         p.clear_path_lengths();
         for (int i = 0; i < p.types_size(); ++i) p.add_path_lengths(i == 0 ? 2 : 0);
       },
       "not normalized"},
      {"bad type", [](Proto& p) { p.set_types(0, 9); }, "bad type"},
      {"tar size mismatch", [](Proto& p) { p.set_tar_size(p.tar_size() + 1); }, "tar size"},
      {"empty chunk", [](Proto& p) { p.set_chunk_uncompressed_sizes(0, 0); }, "empty"},
      {"chunk over the chunk limit", [](Proto& p) { p.set_chunk_uncompressed_sizes(0, kMaxChunkSize + 1); },
       "chunk limit"},
      {"compressed chunk over the chunk limit",
       [](Proto& p) { p.set_chunk_compressed_sizes(0, 0xffffffffu); }, "chunk limit"},
      {"digest column short", [](Proto& p) { p.mutable_chunk_sha256s()->pop_back(); }, "chunk columns"},
      {"content beyond the tar", [](Proto& p) { p.set_data_offsets(1, p.tar_size()); }, "outside"},
      {"startup chunk out of range", [](Proto& p) { p.add_startup_chunks(100000); }, "startup chunk"},
      {"startup end beyond data", [](Proto& p) { p.set_startup_end_offset(1u << 30); }, "startup region"},
      {"startup ranks without startup chunks", [](Proto& p) { p.add_startup_ranks(0); },
       "1 startup ranks for 0 startup chunks"},
      {"startup ranks shorter than startup chunks",
       [](Proto& p) {
         p.add_startup_chunks(0);
         p.add_startup_chunks(1);
         p.add_startup_ranks(7);
       },
       "1 startup ranks for 2 startup chunks"},
      {"owner id out of range", [](Proto& p) { p.set_uname_ids(0, 77); }, "owner name id"},
      {"bad nanoseconds", [](Proto& p) { p.set_mtime_nsecs(0, 1000000000); }, "bad mtime"},
      {"xattr count overrun", [](Proto& p) { p.set_xattr_counts(0, 5); }, "xattr"},
      {"directory with content", [](Proto& p) { p.set_sizes(0, 1); }, "only regular files"},
      {"hardlink to nowhere",
       [](Proto& p) {
         // d/g's target "d/f" (3 bytes) becomes "d/x".
         std::string links = p.link_targets();
         links[links.find("d/f") + 2] = 'x';
         p.set_link_targets(links);
       },
       "not in the layer"},
      {"symlink without target",
       [](Proto& p) {
         std::string links = p.link_targets();
         p.set_link_targets(links.substr(0, links.size() - 1));
         p.set_link_lengths(3, 0);
       },
       "link target"},
      {"file as a parent", [](Proto& p) { p.set_types(0, 0); }, "not a directory"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Proto pb = valid;
    c.edit(pb);
    auto parsed = LayerIndex::ParseUnverified(testing::FrameIndex(pb));
    REQUIRE_FALSE(parsed.ok());
    INFO(parsed.status().ToString());
    CHECK(std::string(parsed.status().message()).find(c.expect) != std::string::npos);
  }
}

TEST_CASE("startup ranks are optional: indexes without them stay valid") {
  Proto pb = ValidProto();
  pb.add_startup_chunks(1);
  pb.add_startup_chunks(0);
  auto unranked = LayerIndex::ParseUnverified(testing::FrameIndex(pb));
  REQUIRE(unranked.ok());
  CHECK(unranked->startup_chunks().size() == 2);
  CHECK(unranked->startup_ranks().empty());
  pb.add_startup_ranks(9);
  pb.add_startup_ranks(4);
  auto ranked = LayerIndex::ParseUnverified(testing::FrameIndex(pb));
  REQUIRE(ranked.ok());
  CHECK(std::vector<uint32_t>(ranked->startup_ranks().begin(), ranked->startup_ranks().end()) ==
        std::vector<uint32_t>{9, 4});
}

TEST_CASE("the index frame itself is checked") {
  std::string frame = testing::FrameIndex(ValidProto());
  CHECK_FALSE(LayerIndex::ParseUnverified("").ok());
  std::string wrong_magic = frame;
  wrong_magic[0] ^= 1;
  CHECK_FALSE(LayerIndex::ParseUnverified(wrong_magic).ok());
  CHECK_FALSE(LayerIndex::ParseUnverified(frame + "x").ok());  // size field no longer matches
  // A payload that is not zstd.
  std::string junk;
  PutLe32(&junk, kIndexFrameMagic);
  PutLe32(&junk, 4);
  junk += "junk";
  CHECK_FALSE(LayerIndex::ParseUnverified(junk).ok());
}

}  // namespace
}  // namespace tide::format
