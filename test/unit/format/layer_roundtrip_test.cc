#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <catch2/catch.hpp>
#include <random>

#include "common/digest.h"
#include "format/layer_index.h"
#include "format/layer_writer.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"
#include "test/unit/format/format_test_util.h"
#include "test/unit/format/synthetic_tar.h"

namespace tide::format {
namespace {

using testing::SyntheticTar;
using testing::TarHeaderSpec;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() % 7 == 0 ? rng() : 'a' + rng() % 4);  // compressible-ish
  return s;
}

// Every edge case the format must carry, as a synthetic tar.
std::string EdgeCaseTar() {
  TarHeaderSpec chr;
  chr.name = "dev/null";
  chr.type = '3';
  chr.mode = 0666;
  chr.dev_major = 1;
  chr.dev_minor = 3;
  TarHeaderSpec blk = chr;
  blk.name = "dev/sda";
  blk.type = '4';
  blk.dev_major = 8;
  blk.dev_minor = 0;
  TarHeaderSpec fifo;
  fifo.name = "run/fifo";
  fifo.type = '6';
  fifo.uname = "l\xe9on";  // Latin-1, not UTF-8
  std::string long100 = "deep/" + std::string(120, 'L');
  std::string long255 = "deep/" + std::string(200, 'a') + "/" + std::string(200, 'b');
  return SyntheticTar()
      .Dir("./")
      .Dir("./etc/")
      .File("./etc/empty", "")
      .File("./etc/one", "1")
      .File("./etc/block", std::string(512, 'b'))
      .File("./usr/bin/tool", RandomBytes(50000, 1), 0755)  // implicit parents usr, usr/bin
      .File("./usr/lib/big.so", RandomBytes(300000, 2))
      .File("./zeros", std::string(200000, '\0'))
      .Symlink("./usr/bin/alias", "tool")
      .Symlink("./abs", "/etc/hosts")
      .Hardlink("./usr/bin/tool2", "./usr/bin/tool")
      .Hardlink("./etc/one-again", "etc/one")
      .File("./etc/.wh.removed", "")
      .Dir("./opaque")
      .File("./opaque/.wh..wh..opq", "")
      .Entry(chr)
      .Entry(blk)
      .Entry(fifo)
      .Raw(SyntheticTar::GnuLong('L', long100))
      .File(long100.substr(0, 99), "gnu long")
      .Raw(SyntheticTar::Pax(
          {{"path", long255},
           {"mtime", "1600000000.5"},
           {"SCHILY.xattr.security.capability", std::string("\x01\x00\x00\x02\x00\x20\x00\x00", 8)},
           {"SCHILY.xattr.user.note", "hello"}}))
      .File("placeholder", RandomBytes(9000, 3), 04755)
      .File("./unicode/\xc3\xa9t\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac.txt", "unicode")
      .File("./etc/one", "replaced")  // a later duplicate wins
      .Finish();
}

TEST_CASE("edge-case tar round-trips byte for byte through zstd -dc and the chunks") {
  const std::string tar = EdgeCaseTar();
  for (uint32_t threshold : {0u, 1024u, kDefaultSmallFileThreshold}) {
    DYNAMIC_SECTION("small file threshold " << threshold) {
      LayerWriterOptions options;
      options.chunk_size = 16384;
      options.small_file_threshold = threshold;
      options.threads = 3;
      testing::Converted c = testing::ConvertTar(tar, options);
      CHECK(testing::ZstdCliDecompress(c.blob) == tar);
      CHECK(c.result.diff_id == Digest::Of(tar));
      CHECK(c.result.blob_digest == Digest::Of(c.blob));
      CHECK(c.result.blob_size == c.blob.size());
      CHECK(c.result.tar_size == tar.size());
      CHECK(c.result.annotations.at(std::string(kAnnotationIndexDigest)) == c.result.index_digest.str());
      CHECK(c.result.annotations.at(std::string(kAnnotationIndexOffset)) ==
            std::to_string(c.result.index_offset));
      CHECK(c.result.annotations.at(std::string(kAnnotationIndexSize)) ==
            std::to_string(c.result.index_size));
      LayerIndex index = testing::LoadIndex(c);
      CHECK(index.diff_id() == c.result.diff_id);
      CHECK(index.tar_entry_count() == c.result.entry_count);
      CHECK(index.chunks().size() == c.result.chunk_count);
      auto files = testing::FileContents(tar);
      REQUIRE(files.size() == 11);
      testing::CheckAllFileReads(c, index, files);

      // Multi-chunk files really are split (300000 bytes in 16 KiB chunks).
      EntryId big = index.LookupPath("usr/lib/big.so");
      CHECK(index.attr(big).chunk_count >= 300000 / 16384);
      if (threshold == 0) {
        // Files with their own frames start a frame.
        CHECK(index.chunk(index.attr(big).first_chunk).uncompressed_offset == index.attr(big).data_offset);
      }
    }
  }
}

TEST_CASE("edge-case metadata is preserved in the index") {
  testing::Converted c = testing::ConvertTar(EdgeCaseTar());
  LayerIndex index = testing::LoadIndex(c);
  EntryId dev = index.LookupPath("dev/null");
  REQUIRE(dev != kNoEntry);
  CHECK(S_ISCHR(index.attr(dev).mode));
  CHECK(index.attr(dev).rdev_major == 1);
  CHECK(index.attr(dev).rdev_minor == 3);
  CHECK(index.attr(index.LookupPath("dev")).synthesized);
  CHECK(S_ISBLK(index.attr(index.LookupPath("dev/sda")).mode));
  CHECK(S_ISFIFO(index.attr(index.LookupPath("run/fifo")).mode));
  CHECK(index.uname(index.LookupPath("run/fifo")) == "l\xe9on");
  EntryId alias = index.LookupPath("usr/bin/alias");
  CHECK(S_ISLNK(index.attr(alias).mode));
  CHECK(index.link_target(alias) == "tool");
  CHECK(index.link_target(index.LookupPath("abs")) == "/etc/hosts");
  // Hardlinks share the target's entry (inode) and count in its nlink.
  EntryId tool = index.LookupPath("usr/bin/tool");
  CHECK(index.LookupPath("usr/bin/tool2") == tool);
  CHECK(index.attr(tool).nlink == 2);
  CHECK((index.attr(tool).mode & 07777) == 0755);
  // The hardlink to etc/one resolves to the path's final entry.
  CHECK(index.LookupPath("etc/one-again") == index.LookupPath("etc/one"));
  CHECK(index.attr(index.LookupPath("etc/one")).size == 8);
  CHECK(index.LookupPath("etc/.wh.removed") != kNoEntry);
  CHECK(index.LookupPath("opaque/.wh..wh..opq") != kNoEntry);
  std::string long255 = "deep/" + std::string(200, 'a') + "/" + std::string(200, 'b');
  EntryId pax = index.LookupPath(long255);
  REQUIRE(pax != kNoEntry);
  CHECK(index.attr(pax).mtime_sec == 1600000000);
  CHECK(index.attr(pax).mtime_nsec == 500000000);
  CHECK((index.attr(pax).mode & 07777) == 04755);
  auto xattrs = index.xattrs(pax);
  REQUIRE(xattrs.size() == 2);
  CHECK(xattrs[0].key == "security.capability");
  CHECK(xattrs[0].value == std::string_view("\x01\x00\x00\x02\x00\x20\x00\x00", 8));
  CHECK(index.LookupPath("deep/" + std::string(120, 'L')) != kNoEntry);
  CHECK(index.LookupPath("unicode/\xc3\xa9t\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac.txt") != kNoEntry);
  CHECK(index.uname(tool) == "root");
  // The root takes the "./" entry's attributes.
  CHECK(index.attr(kRootEntry).synthesized == false);
  CHECK(index.attr(kRootEntry).mtime_sec == 1700000000);
}

// A real tree archived by GNU tar with xattrs, hardlinks, devices, fifos and long names.
TEST_CASE("GNU tar archive of a real tree round-trips") {
  testing::TempDir dir("tide-format-tree");
  auto root = dir / "root";
  testing::WriteFile(root / "etc/hostname", "tide\n");
  testing::WriteFile(root / "usr/lib/libbig.so", RandomBytes(3 << 20, 7));
  testing::WriteFile(root / "usr/share/zero", std::string(1 << 20, '\0'));
  testing::WriteFile(root / "empty", "");
  std::string long_dir = std::string(90, 'd') + "/" + std::string(90, 'e') + "/" + std::string(90, 'f');
  testing::WriteFile(root / long_dir / "file-with-a-long-path", "long");
  testing::WriteFile(root / ".wh.gone", "");
  auto r = testing::RunShell(
      "cd '" + root.string() +
      "' && ln usr/lib/libbig.so usr/lib/libbig.so.1 && ln -s libbig.so usr/lib/libsym.so"
      " && mkfifo fifo && mknod dev-null c 1 3"
      " && setfattr -n user.tide -v value etc/hostname"
      " && setfattr -n security.capability -v 0x0100000200200000000000000000000000000000 empty"
      " && tar --xattrs --xattrs-include='*' --format=pax -C '" +
      root.string() + "' -cf ../layer.tar .");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::string tar = testing::ReadFile(dir / "layer.tar");
  LayerWriterOptions options;
  options.chunk_size = 256 << 10;
  testing::Converted c = testing::ConvertTar(tar, options);
  CHECK(testing::ZstdCliDecompress(c.blob) == tar);
  CHECK(c.result.diff_id == Digest::Of(tar));
  LayerIndex index = testing::LoadIndex(c);
  testing::CheckAllFileReads(c, index, testing::FileContents(tar));
  EntryId host = index.LookupPath("etc/hostname");
  REQUIRE(index.xattrs(host).size() == 1);
  CHECK(index.xattrs(host)[0].value == "value");
  auto caps = index.xattrs(index.LookupPath("empty"));
  REQUIRE(caps.size() == 1);
  CHECK(caps[0].key == "security.capability");
  CHECK(index.LookupPath("usr/lib/libbig.so.1") == index.LookupPath("usr/lib/libbig.so"));
  CHECK(S_ISCHR(index.attr(index.LookupPath("dev-null")).mode));
  CHECK(S_ISFIFO(index.attr(index.LookupPath("fifo")).mode));
  CHECK(index.LookupPath(long_dir + "/file-with-a-long-path") != kNoEntry);
}

TEST_CASE("writer rejects bad tars with the entry named") {
  struct Case {
    std::string tar;
    std::string expect;
  };
  std::vector<Case> cases = {
      {SyntheticTar().File("../escape", "x").Finish(), "'../escape'"},
      {SyntheticTar().File("/abs", "x").Finish(), "'/abs'"},
      {SyntheticTar().File("f", std::string(5000, 'x')).Finish().substr(0, 3000), "'f'"},
      {SyntheticTar().Hardlink("dangling", "missing").Finish(), "dangling"},
      {SyntheticTar().File("file", "x").File("file/child", "y").Finish(), "not a directory"},
  };
  for (const auto& c : cases) {
    StringSource source(c.tar);
    StringSink sink;
    auto result = WriteLayer(source, sink);
    INFO(result.status().ToString());
    REQUIRE_FALSE(result.ok());
    CHECK(std::string(result.status().message()).find(c.expect) != std::string::npos);
  }
}

TEST_CASE("a file with frames of its own is cut at the file chunk size; shared frames are not") {
  SyntheticTar tar;
  for (int i = 0; i < 300; ++i)
    tar.File("./pkg/mod" + std::to_string(i) + ".py", RandomBytes(10000, 100 + i));
  tar.File("./lib/big.so", RandomBytes(3u << 20, 7));
  const std::string bytes = tar.Finish();
  struct Case {
    uint32_t file_chunk_size;
    uint32_t want_file_chunks;  // of big.so's 3 MiB
  };
  for (const Case& k : {Case{0, 2}, Case{kDefaultFileChunkSize, 6}, Case{4u << 20, 2}, Case{1u << 20, 3}}) {
    DYNAMIC_SECTION("file chunk size " << k.file_chunk_size) {
      LayerWriterOptions options;
      options.file_chunk_size = k.file_chunk_size;
      testing::Converted c = testing::ConvertTar(bytes, options);
      CHECK(testing::ZstdCliDecompress(c.blob) == bytes);
      LayerIndex index = testing::LoadIndex(c);
      testing::CheckAllFileReads(c, index, testing::FileContents(bytes));
      const auto big = index.attr(index.LookupPath("lib/big.so"));
      CHECK(big.chunk_count == k.want_file_chunks);
      uint32_t largest_shared = 0;
      for (uint32_t i = 0; i < big.first_chunk; ++i) {
        largest_shared = std::max(largest_shared, index.chunk(i).uncompressed_size);
      }
      CHECK(largest_shared == kDefaultChunkSize);  // 3 MB of small files fill a whole shared frame
      CHECK(index.chunk_size() == kDefaultChunkSize);
    }
  }
}

TEST_CASE("writer validates its options") {
  StringSource source(SyntheticTar().Finish());
  StringSink sink;
  LayerWriterOptions options;
  options.chunk_size = 100;
  CHECK_FALSE(WriteLayer(source, sink, options).ok());
  options.chunk_size = kDefaultChunkSize;
  options.file_chunk_size = 100;
  CHECK_FALSE(WriteLayer(source, sink, options).ok());
  options.file_chunk_size = 0;
  options.zstd_level = 99;
  CHECK_FALSE(WriteLayer(source, sink, options).ok());
}

}  // namespace
}  // namespace tide::format
