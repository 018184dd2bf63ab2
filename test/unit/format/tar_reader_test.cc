#include "format/tar_reader.h"

#include <catch2/catch.hpp>

#include "format/byte_io.h"
#include "format/tar_header.h"
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

// The entries of an archive the reader must accept.
std::vector<TarEntry> AcceptedEntries(const std::string& tar) {
  std::vector<TarEntry> entries;
  absl::Status st = ReadAll(tar, &entries);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return entries;
}

// Reads every byte through the reader (headers, content, padding, trailer) and returns them.
absl::StatusOr<std::string> Replay(const std::string& tar) {
  StringSource source(tar);
  TarReader reader(source);
  std::string seen;
  TarEntry e;
  char buf[333];
  while (true) {
    auto more = reader.Next(&e);
    if (!more.ok()) return more.status();
    if (!*more) break;
    seen += e.raw_header;
    while (true) {
      auto n = reader.ReadData(buf, sizeof(buf));
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      seen.append(buf, *n);
    }
    auto pad = reader.ReadPadding();
    if (!pad.ok()) return pad.status();
    seen += *pad;
  }
  while (true) {
    auto n = reader.ReadTrailer(buf, sizeof(buf));
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    seen.append(buf, *n);
  }
  if (reader.offset() != seen.size())
    return absl::InternalError("offset() disagrees with the bytes handed out");
  return seen;
}

TEST_CASE("tar reader ignores PAX global headers, as containerd does") {
  // The attack: a global 'size' record would make a reader that applies it swallow the next header.
  std::string hidden = SyntheticTar().File("evil", "X").bytes();
  TarHeaderSpec innocent;
  innocent.name = "innocent";
  std::string tar = SyntheticTar()
                        .Raw(SyntheticTar::Pax({{"size", std::to_string(hidden.size())},
                                                {"mtime", "5"},
                                                {"uid", "7"},
                                                {"SCHILY.xattr.user.g", "1"}},
                                               'g'))
                        .Raw(SyntheticTar::Header(innocent))
                        .Raw(hidden)
                        .Finish();
  std::vector<TarEntry> entries = AcceptedEntries(tar);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].path == "innocent");
  CHECK(entries[0].size == 0);
  CHECK(entries[0].mtime_sec == 1700000000);
  CHECK(entries[0].uid == 0);
  CHECK(entries[0].xattrs.empty());
  CHECK(entries[1].path == "evil");

  // A global header drops the extension headers before it, and may end the archive.
  std::string dropped = SyntheticTar()
                            .Raw(SyntheticTar::Pax({{"path", "lost"}}))
                            .Raw(SyntheticTar::GnuLong('L', "lost-too"))
                            .Raw(SyntheticTar::Pax({{"comment", "c"}}, 'g'))
                            .File("kept", "k")
                            .Raw(SyntheticTar::Pax({{"comment", "last"}}, 'g'))
                            .Finish();
  entries = AcceptedEntries(dropped);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].path == "kept");
  auto replayed = Replay(dropped);
  REQUIRE(replayed.ok());
  CHECK(*replayed == dropped);
}

TEST_CASE("tar reader applies only the last PAX header, then GNU long names") {
  TarHeaderSpec plain;
  plain.name = "plain";
  std::string tar = SyntheticTar()
                        .Raw(SyntheticTar::Pax({{"path", "first"}, {"mtime", "1"}}))
                        .Raw(SyntheticTar::Pax({{"uid", "5"}, {"size", "junk"}, {"size", "3"}}))
                        .Raw(SyntheticTar::Header(plain))
                        .Raw(std::string("abc") + SyntheticTar::Pad(3))
                        .Raw(SyntheticTar::Pax({{"path", "pax-name"}, {"SCHILY.xattr.user.empty", ""}}))
                        .Raw(SyntheticTar::GnuLong('L', "gnu-name"))
                        .File("short", "s")
                        .Raw(SyntheticTar::Pax({{"path", ""}, {"mtime", ""}}))
                        .Raw(SyntheticTar::GnuLong('L', ""))
                        .File("header-name", "h")
                        .Finish();
  std::vector<TarEntry> entries = AcceptedEntries(tar);
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].path == "plain");
  CHECK(entries[0].uid == 5);
  CHECK(entries[0].size == 3);
  CHECK(entries[0].mtime_sec == 1700000000);
  CHECK(entries[1].path == "gnu-name");
  REQUIRE(entries[1].xattrs.size() == 1);
  CHECK(entries[1].xattrs[0] == std::make_pair(std::string("user.empty"), std::string()));
  CHECK(entries[2].path == "header-name");
}

TEST_CASE("tar reader decides type '\\0' directories on the final name") {
  std::string hidden = SyntheticTar().File("hidden", "H").bytes();
  TarHeaderSpec spec;
  spec.name = "d";
  spec.type = '\0';
  spec.size = hidden.size();
  std::string tar = SyntheticTar()
                        .Raw(SyntheticTar::Pax({{"path", "d2/"}}))
                        .Raw(SyntheticTar::Header(spec))
                        .Raw(hidden)
                        .Finish();
  std::vector<TarEntry> entries = AcceptedEntries(tar);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].type == EntryType::kDirectory);
  CHECK(entries[0].path == "d2");
  CHECK(entries[1].path == "hidden");
}

TEST_CASE("tar reader ends the archive only where Go's archive/tar does") {
  std::string entry = SyntheticTar().File("a", "x").bytes();
  std::string zero(512, '\0');
  // One zero block then the end of input is a clean end; every byte is still handed out.
  auto replayed = Replay(entry + zero);
  REQUIRE(replayed.ok());
  CHECK(*replayed == entry + zero);
  // A lone zero block followed by more headers, or by a partial block, is not an end marker.
  absl::Status st = ReadAll(entry + zero + entry + zero + zero);
  CHECK(std::string(st.message()).find("zero block is followed by a header") != std::string::npos);
  st = ReadAll(entry + zero + std::string(100, 'x'));
  CHECK(std::string(st.message()).find("truncated") != std::string::npos);
}

TEST_CASE("tar reader bounds runs of extension headers") {
  auto with_headers = [](int count, size_t value_size) {
    SyntheticTar tar;
    for (int i = 0; i < count; ++i) tar.Raw(SyntheticTar::Pax({{"comment", std::string(value_size, 'c')}}));
    return tar.File("x", "x").Finish();
  };
  CHECK(ReadAll(with_headers(16, 10)).ok());
  absl::Status st = ReadAll(with_headers(17, 10));
  CHECK(std::string(st.message()).find("more than 16 extension headers") != std::string::npos);
  st = ReadAll(with_headers(3, 1000000));
  CHECK(std::string(st.message()).find("exceed") != std::string::npos);
}

TEST_CASE("tar reader rejects what Go's archive/tar rejects or reads differently") {
  struct Case {
    std::string tar;
    std::string expect;
  };
  TarHeaderSpec seven;
  seven.name = "contiguous";
  seven.type = '7';
  TarHeaderSpec devmajor;
  devmajor.name = "dev";
  std::string bad_devmajor = SyntheticTar::Header(devmajor);
  bad_devmajor[329] = 'z';
  SetTarChecksum(bad_devmajor.data());
  std::vector<Case> cases = {
      {SyntheticTar().Raw(SyntheticTar::Pax({{"path", "x"}}, 'x')).Finish(), "not followed by an entry"},
      {SyntheticTar().Entry(seven).Finish(), "contiguous"},
      {SyntheticTar().Raw(bad_devmajor).Finish(), "devmajor"},
      {SyntheticTar().Raw(SyntheticTar::Pax({{"atime", "soon"}})).File("t", "").Finish(), "atime"},
      {SyntheticTar().Raw(SyntheticTar::Pax({{"size", "-5"}})).File("neg", "").Finish(), "negative size"},
      {SyntheticTar().Raw(SyntheticTar::Pax({{"path", std::string("a\0b", 3)}})).File("n", "").Finish(),
       "NUL"},
      {SyntheticTar().Raw(SyntheticTar::Pax({{"GNU.sparse.size", "1"}}, 'g')).File("g", "").Finish(),
       "sparse"},
  };
  for (const auto& c : cases) {
    absl::Status st = ReadAll(c.tar);
    INFO(st.ToString());
    REQUIRE_FALSE(st.ok());
    CHECK(std::string(st.message()).find(c.expect) != std::string::npos);
  }
}

TEST_CASE("tar reader escapes archive names in its errors") {
  std::string name = "\x1b]0;owned\x07\x1b[2J../x\n";
  absl::Status st = ReadAll(SyntheticTar().File(name.substr(0, 12) + "/../" + name, "x").Finish());
  INFO(st.ToString());
  REQUIRE_FALSE(st.ok());
  std::string message(st.message());
  CHECK(message.find('\x1b') == std::string::npos);
  CHECK(message.find('\x07') == std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.find("\\x1b]0;owned") != std::string::npos);
  // Also where the entry's content turns out truncated.
  std::string tar = SyntheticTar().File("cut\x1b[2J", std::string(2000, 'c')).bytes().substr(0, 1000);
  st = ReadAll(tar);
  CHECK(std::string(st.message()).find('\x1b') == std::string::npos);
  CHECK(std::string(st.message()).find("truncated") != std::string::npos);
}

TEST_CASE("tar reader hands out every input byte") {
  std::string tar =
      SyntheticTar().Dir("d").File("d/f", std::string(700, 'z')).Finish() + std::string(9000, '\0');
  auto seen = Replay(tar);
  INFO(seen.status().ToString());
  REQUIRE(seen.ok());
  CHECK(*seen == tar);
}

}  // namespace
}  // namespace tide::format
