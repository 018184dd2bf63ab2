#include "format/tar_reader.h"

#include <catch2/catch.hpp>

#include "format/byte_io.h"
#include "test/unit/format/synthetic_tar.h"

namespace tide::format {
namespace {

using testing::SyntheticTar;
using testing::TarHeaderSpec;

// Reads all entries; returns the error, or OK.
absl::Status ReadAll(const std::string& tar, std::vector<TarEntry>* out = nullptr) {
  StringSource source(tar);
  TarReader reader(source);
  TarEntry e;
  char buf[4096];
  while (true) {
    auto more = reader.Next(&e);
    if (!more.ok()) return more.status();
    if (!*more) break;
    while (true) {
      auto n = reader.ReadData(buf, sizeof(buf));
      if (!n.ok()) return n.status();
      if (*n == 0) break;
    }
    auto pad = reader.ReadPadding();
    if (!pad.ok()) return pad.status();
    if (out) out->push_back(e);
  }
  return absl::OkStatus();
}

TEST_CASE("tar reader decodes ustar, GNU and PAX headers") {
  std::string long_name(150, 'n');
  std::string longer = "dir/" + std::string(200, 'p') + "/" + std::string(120, 'q');
  std::string tar =
      SyntheticTar()
          .Dir("./etc/")
          .File("./etc/hosts", "127.0.0.1 localhost\n")
          .Raw(SyntheticTar::GnuLong('L', long_name))
          .File(long_name.substr(0, 100), "gnu")
          .Raw(SyntheticTar::Pax({{"path", longer},
                                  {"mtime", "1700000000.123456789"},
                                  {"SCHILY.xattr.security.capability", std::string("\x01\x00\x00\x02", 4)},
                                  {"SCHILY.xattr.user.k", "v"},
                                  {"uname", "someone"},
                                  {"uid", "4000000000"}}))
          .File("short", "pax")
          .Raw(SyntheticTar::GnuLong('K', "target/" + std::string(130, 't')))
          .Symlink("link", "ignored")
          .Finish();
  std::vector<TarEntry> entries;
  REQUIRE(ReadAll(tar, &entries).ok());
  REQUIRE(entries.size() == 5);
  CHECK(entries[0].type == EntryType::kDirectory);
  CHECK(entries[0].path == "etc");
  CHECK(entries[1].path == "etc/hosts");
  CHECK(entries[1].size == 20);
  CHECK(entries[2].path == long_name);
  CHECK(entries[3].path == longer);
  CHECK(entries[3].mtime_sec == 1700000000);
  CHECK(entries[3].mtime_nsec == 123456789);
  CHECK(entries[3].uname == "someone");
  CHECK(entries[3].uid == 4000000000u);
  REQUIRE(entries[3].xattrs.size() == 2);
  CHECK(entries[3].xattrs[0].first == "security.capability");
  CHECK(entries[3].xattrs[0].second == std::string("\x01\x00\x00\x02", 4));
  CHECK(entries[4].type == EntryType::kSymlink);
  CHECK(entries[4].link_target == "target/" + std::string(130, 't'));
  // raw_header carries the extension headers too.
  CHECK(entries[3].raw_header.size() > 1024);
}

TEST_CASE("tar reader handles sizes beyond 8 GiB (base-256 and PAX)") {
  const uint64_t huge = (uint64_t{9} << 30) + 5;
  TarHeaderSpec spec;
  spec.name = "big";
  spec.size = huge;
  spec.base256_size = true;
  std::string tar = SyntheticTar::Header(spec) + std::string(1024, 'x');
  StringSource source(tar);
  TarReader reader(source);
  TarEntry e;
  auto more = reader.Next(&e);
  REQUIRE(more.ok());
  REQUIRE(*more);
  CHECK(e.size == huge);
  char buf[4096];
  absl::Status st;
  while (st.ok()) {
    auto n = reader.ReadData(buf, sizeof(buf));
    st = n.status();
  }
  CHECK(st.message().find("'big'") != std::string::npos);
  CHECK(st.message().find("truncated") != std::string::npos);

  std::string pax = SyntheticTar::Pax({{"size", std::to_string(huge)}});
  TarHeaderSpec small;
  small.name = "big2";
  const std::string tar2 = pax + SyntheticTar::Header(small);
  StringSource source2(tar2);
  TarReader reader2(source2);
  more = reader2.Next(&e);
  INFO(more.status().ToString());
  REQUIRE(more.ok());
  CHECK(e.size == huge);
}

TEST_CASE("tar reader rejects unsafe and malformed archives with the entry named") {
  struct Case {
    std::string tar;
    std::string expect1;
    std::string expect2;
  };
  TarHeaderSpec sparse;
  sparse.name = "sparse-file";
  sparse.type = 'S';
  std::string good = SyntheticTar().File("a", std::string(3000, 'a')).Finish();
  std::string bad_checksum = SyntheticTar().File("checked", "x").Finish();
  bad_checksum[10] ^= 1;
  std::vector<Case> cases = {
      {SyntheticTar().File("/etc/passwd", "x").Finish(), "/etc/passwd", "absolute"},
      {SyntheticTar().File("a/../../evil", "x").Finish(), "a/../../evil", ".."},
      {SyntheticTar().Raw(SyntheticTar::Pax({{"path", "../up"}})).File("x", "x").Finish(), "../up", ".."},
      {SyntheticTar().Hardlink("h", "../../etc/shadow").Finish(), "'h'", ".."},
      {SyntheticTar().Entry(sparse).Finish(), "sparse-file", "unsupported entry type 'S'"},
      {SyntheticTar().Raw(SyntheticTar::Pax({{"SCHILY.xattr.", "v"}})).File("nameless", "y").Finish(),
       "'nameless'", "empty name"},
      {SyntheticTar().Raw(SyntheticTar::Pax({{"GNU.sparse.major", "1"}})).File("gs", "y").Finish(), "'gs'",
       "sparse"},
      {bad_checksum, "checked", "checksum"},
      {good.substr(0, 1500), "'a'", "truncated"},
      {good.substr(0, 300), "offset 0", "truncated"},
  };
  for (const auto& c : cases) {
    absl::Status st = ReadAll(c.tar);
    INFO(st.ToString());
    REQUIRE_FALSE(st.ok());
    CHECK(std::string(st.message()).find(c.expect1) != std::string::npos);
    CHECK(std::string(st.message()).find(c.expect2) != std::string::npos);
  }
  // An extension header followed by the end marker is an error.
  absl::Status st = ReadAll(SyntheticTar().Raw(SyntheticTar::Pax({{"path", "dangling"}})).Finish());
  CHECK(std::string(st.message()).find("not followed by an entry") != std::string::npos);
}

TEST_CASE("tar reader hands out every input byte") {
  std::string tar =
      SyntheticTar().Dir("d").File("d/f", std::string(700, 'z')).Finish() + std::string(9000, '\0');
  StringSource source(tar);
  TarReader reader(source);
  std::string seen;
  TarEntry e;
  char buf[333];
  while (true) {
    auto more = reader.Next(&e);
    REQUIRE(more.ok());
    if (!*more) break;
    seen += e.raw_header;
    while (true) {
      auto n = reader.ReadData(buf, sizeof(buf));
      REQUIRE(n.ok());
      if (*n == 0) break;
      seen.append(buf, *n);
    }
    auto pad = reader.ReadPadding();
    REQUIRE(pad.ok());
    seen += *pad;
  }
  while (true) {
    auto n = reader.ReadTrailer(buf, sizeof(buf));
    REQUIRE(n.ok());
    if (*n == 0) break;
    seen.append(buf, *n);
  }
  CHECK(seen == tar);
  CHECK(reader.offset() == tar.size());
}

}  // namespace
}  // namespace tide::format
