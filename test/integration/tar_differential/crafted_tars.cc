#include "test/integration/tar_differential/crafted_tars.h"

#include <cstring>
#include <functional>

#include "format/tar_header.h"
#include "test/unit/format/synthetic_tar.h"

namespace tide::testing {
namespace {

namespace f = format;
using Records = std::vector<std::pair<std::string, std::string>>;

// Where star headers keep their prefix, times and trailer (written out here, not taken from the
// reader, so the corpus does not depend on the code it tests).
constexpr size_t kStarPrefix = 345;
constexpr size_t kStarAtime = 476;
constexpr size_t kStarCtime = 488;
constexpr size_t kStarTrailer = 508;

const std::string kEnd(2 * f::kTarBlockSize, '\0');
const std::string kZeroBlock(f::kTarBlockSize, '\0');

TarHeaderSpec Spec(const std::string& name, char type = '0', uint64_t size = 0) {
  TarHeaderSpec spec;
  spec.name = name;
  spec.type = type;
  spec.size = size;
  spec.mode = type == '5' ? 0755 : 0644;
  return spec;
}

// A header block changed by `edit` after it was built, with its checksum recomputed.
std::string Patched(const TarHeaderSpec& spec, const std::function<void(char*)>& edit) {
  std::string block = SyntheticTar::Header(spec);
  edit(block.data());
  f::SetTarChecksum(block.data());
  return block;
}

void Put(char* block, size_t offset, const std::string& bytes) {
  std::memcpy(block + offset, bytes.data(), bytes.size());
}

// Writes a 12-byte GNU base-256 number (two's complement with the marker bit) at `offset`.
void PutBase256(char* block, size_t offset, size_t size, int64_t value) {
  auto v = static_cast<uint64_t>(value);
  for (size_t i = 0; i < size; ++i) {
    block[offset + size - 1 - i] = static_cast<char>(i < 8 ? (v >> (8 * i)) & 0xff : (value < 0 ? 0xff : 0));
  }
  block[offset] = static_cast<char>(block[offset] | 0x80);
}

std::string Content(const std::string& data) { return data + SyntheticTar::Pad(data.size()); }

std::string FileEntry(const std::string& name, const std::string& data) {
  return SyntheticTar::Header(Spec(name, '0', data.size())) + Content(data);
}

// A PAX header ('x' or 'g') whose data is `body` as given, well-formed or not.
std::string PaxBody(const std::string& body, char type = 'x') {
  return SyntheticTar::Header(Spec("PaxHeaders/x", type, body.size())) + Content(body);
}

std::string Pax(const Records& records, char type = 'x') { return SyntheticTar::Pax(records, type); }

std::vector<CraftedTar> GlobalHeaderCases() {
  // The attack: a global PAX size makes a reader that applies it take the next headers for content.
  std::string hidden = FileEntry("evil", "X");
  return {
      {"global-pax-size", Pax({{"size", std::to_string(hidden.size())}}, 'g') +
                              SyntheticTar::Header(Spec("innocent")) + hidden + kEnd},
      {"global-pax-attributes", Pax({{"path", "elsewhere"},
                                     {"mtime", "5"},
                                     {"uid", "7"},
                                     {"gid", "8"},
                                     {"uname", "u"},
                                     {"gname", "g"},
                                     {"linkpath", "t"},
                                     {"SCHILY.xattr.user.global", "1"}},
                                    'g') +
                                    FileEntry("a", "hello") + SyntheticTar().Symlink("l", "target").bytes() +
                                    kEnd},
      {"git-archive-comment", Pax({{"comment", "4b825dc642cb6eb9a060e54bf8d69288fbee4904"}}, 'g') +
                                  SyntheticTar().Dir("proj/").File("proj/README", "read me").bytes() + kEnd},
      {"global-header-at-end", FileEntry("a", "x") + Pax({{"comment", "c"}}, 'g') + kEnd},
      {"global-header-then-eof", FileEntry("a", "x") + Pax({{"comment", "c"}}, 'g')},
      {"pax-then-global-drops-pax",
       Pax({{"path", "lost"}}) + Pax({{"comment", "g"}}, 'g') + FileEntry("kept", "k") + kEnd},
      {"gnu-long-name-then-global",
       SyntheticTar::GnuLong('L', "lost") + Pax({{"comment", "g"}}, 'g') + FileEntry("kept", "k") + kEnd},
  };
}

std::vector<CraftedTar> LocalHeaderCases() {
  std::string nul_key("SCHILY.xattr.user.a\0b", 21);
  return {
      {"local-pax-replaced-by-next",
       Pax({{"path", "first"}, {"mtime", "1"}}) + Pax({{"uid", "5"}}) + FileEntry("plain", "p") + kEnd},
      {"pax-path-vs-gnu-long-name",
       Pax({{"path", "pax-name"}}) + SyntheticTar::GnuLong('L', "gnu-name") + FileEntry("short", "s") + kEnd},
      {"gnu-long-name-vs-later-pax-path",
       SyntheticTar::GnuLong('L', "gnu-name") + Pax({{"path", "pax-name"}}) + FileEntry("short", "s") + kEnd},
      {"pax-empty-values",
       Pax({{"path", ""}, {"size", ""}, {"uid", ""}, {"mtime", ""}, {"SCHILY.xattr.user.empty", ""}}) +
           FileEntry("keep", "abc") + kEnd},
      {"pax-path-with-nul", Pax({{"path", std::string("a\0b", 3)}}) + FileEntry("x", "x") + kEnd, false},
      {"pax-xattr-key-with-nul", Pax({{nul_key, "v"}}) + FileEntry("x", "x") + kEnd, false},
      {"pax-nul-padding", PaxBody("14 path=named\n" + std::string(4, '\0')) + FileEntry("x", "x") + kEnd,
       false},
      {"pax-bad-atime", Pax({{"atime", "yesterday"}}) + FileEntry("x", "x") + kEnd, false},
      {"pax-size-with-plus",
       Pax({{"size", "+3"}}) + SyntheticTar::Header(Spec("plus")) + Content("abc") + kEnd},
      {"pax-negative-size-on-dir", Pax({{"size", "-1"}}) + SyntheticTar().Dir("d").bytes() + kEnd},
      {"pax-negative-size-on-file", Pax({{"size", "-5"}}) + FileEntry("neg", "") + kEnd, false},
      {"pax-size-overflow", Pax({{"size", "99999999999999999999"}}) + FileEntry("big", "") + kEnd, false},
      {"pax-duplicate-keys",
       Pax({{"size", "junk"}, {"size", "3"}}) + SyntheticTar::Header(Spec("dup")) + Content("abc") + kEnd},
      {"pax-mtime-fractions", Pax({{"mtime", "-1.5"}}) + FileEntry("a", "") +
                                  Pax({{"mtime", "1700000000.1234567891"}}) + FileEntry("b", "") +
                                  Pax({{"mtime", "-0.25"}}) + FileEntry("c", "") + Pax({{"mtime", "+12."}}) +
                                  FileEntry("d", "") + kEnd},
      {"pax-record-length-plus-and-zeros", PaxBody("+0022 path=abcdefghij\n") + FileEntry("x", "x") + kEnd},
      {"pax-record-length-wrong", PaxBody("30 path=abc\n") + FileEntry("x", "x") + kEnd, false},
      {"pax-uid-beyond-32-bits", Pax({{"uid", "4294967296"}}) + FileEntry("x", "x") + kEnd, false},
      {"pax-owner-names-and-xattrs",
       Pax({{"uname", "alice"},
            {"gname", "staff"},
            {"uid", "1000"},
            {"SCHILY.xattr.security.capability", std::string("\x01\x00\x00\x02\x00\x20", 6)},
            {"SCHILY.xattr.user.k", "v"}}) +
           FileEntry("bin", "ELF") + kEnd},
      {"pax-linkpath-hardlink", FileEntry("target", "t") + Pax({{"linkpath", "./target"}}) +
                                    SyntheticTar().Hardlink("h", "ignored").bytes() + kEnd},
      {"dangling-extension-at-end", FileEntry("a", "x") + Pax({{"path", "x"}}) + kEnd, false},
      {"many-extension-headers",
       [] {
         std::string tar;
         for (int i = 0; i < 20; ++i) tar += Pax({{"comment", "c"}});
         return tar + FileEntry("x", "x") + kEnd;
       }(),
       false},
      {"pax-too-large", Pax({{"comment", std::string(1 << 20, 'c')}}) + FileEntry("x", "x") + kEnd, false},
      {"sparse-records-replaced-by-next-pax", Pax({{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"}}) +
                                                  Pax({{"comment", "c"}}) + FileEntry("dense", "d") + kEnd},
      {"global-sparse-record", Pax({{"GNU.sparse.size", "1"}}, 'g') + FileEntry("x", "x") + kEnd, false},
      {"pax-unknown-keys", Pax({{"comment", "c"},
                                {"charset", "BINARY"},
                                {"SCHILY.acl.access", "user::rw-"},
                                {"LIBARCHIVE.x", "y"}}) +
                               FileEntry("x", "x") + kEnd},
      {"pax-mtime-extremes", Pax({{"mtime", "9223372036854775807"}}) + FileEntry("max", "") +
                                 Pax({{"mtime", "-9223372036854775808"}}) + FileEntry("min", "") + kEnd},
  };
}

std::vector<CraftedTar> GnuCases() {
  TarHeaderSpec sparse = Spec("sparse", 'S', 0);
  std::string gnu_magic("ustar  \0", 8);
  return {
      {"gnu-long-name-empty", SyntheticTar::GnuLong('L', "") + FileEntry("hdr-name", "h") + kEnd},
      {"gnu-long-name-over-64k",
       SyntheticTar::GnuLong('L', std::string(70000, 'n')) + FileEntry("short", "s") + kEnd, false},
      {"gnu-long-link", SyntheticTar::GnuLong('K', "target/" + std::string(130, 't')) +
                            SyntheticTar().Symlink("l", "short").bytes() + kEnd},
      {"gnu-sparse-old", Patched(sparse, [&](char* b) { Put(b, f::kTarMagic.offset, gnu_magic); }) + kEnd,
       false},
      {"pax-sparse-0.1",
       Pax({{"GNU.sparse.major", "0"},
            {"GNU.sparse.minor", "1"},
            {"GNU.sparse.name", "real"},
            {"GNU.sparse.realsize", "10"},
            {"GNU.sparse.numblocks", "1"},
            {"GNU.sparse.map", "0,3"}}) +
           FileEntry("GNUSparseFile.0/real", "abc") + kEnd,
       false},
      {"pax-sparse-1.0",
       Pax({{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"}, {"GNU.sparse.realsize", "10"}}) +
           FileEntry("GNUSparseFile.0/real", Content("1\n0\n3\n") + "abc") + kEnd,
       false},
      {"pax-sparse-0.0",
       Pax({{"GNU.sparse.size", "10"},
            {"GNU.sparse.numblocks", "1"},
            {"GNU.sparse.offset", "0"},
            {"GNU.sparse.numbytes", "3"}}) +
           FileEntry("real", "abc") + kEnd,
       false},
      {"gnu-format", Patched(Spec("gnu-file", '0', 2),
                             [&](char* b) {
                               Put(b, f::kTarMagic.offset, gnu_magic);
                               std::memset(b + f::kTarPrefix.offset, 0, f::kTarPrefix.size);
                             }) +
                         Content("gn") + kEnd},
      {"gnu-bad-atime-ascii-prefix", Patched(Spec("name", '0', 2),
                                             [&](char* b) {
                                               Put(b, f::kTarMagic.offset, gnu_magic);
                                               Put(b, f::kTarPrefix.offset, "pfx");
                                             }) +
                                         Content("pf") + kEnd},
  };
}

std::vector<CraftedTar> NumericFieldCases() {
  TarHeaderSpec base256 = Spec("b256", '0', 5);
  base256.base256_size = true;
  return {
      {"base256-negative-mtime",
       Patched(Spec("old"), [](char* b) { PutBase256(b, f::kTarMtime.offset, 12, -1000); }) + kEnd},
      {"base256-mtime-overflow",
       Patched(Spec("far"),
               [](char* b) {
                 Put(b, f::kTarMtime.offset, std::string("\xff\xff\xff\xff", 4) + std::string(8, '\0'));
               }) +
           kEnd,
       false},
      {"base256-size", SyntheticTar::Header(base256) + Content("12345") + kEnd},
      {"base256-uid-beyond-32-bits",
       Patched(Spec("uid"), [](char* b) { PutBase256(b, f::kTarUid.offset, 8, int64_t{1} << 32); }) + kEnd,
       false},
      {"octal-nul-then-junk",
       Patched(Spec("junk", '0', 3),
               [](char* b) { Put(b, f::kTarSize.offset, std::string("0000000003\0z", 12)); }) +
           Content("abc") + kEnd},
      {"octal-space-padded", Patched(Spec("spaced", '0', 3),
                                     [](char* b) {
                                       Put(b, f::kTarMode.offset, std::string("   644 \0", 8));
                                       Put(b, f::kTarUid.offset, "0000012 ");
                                       Put(b, f::kTarSize.offset, "          3 ");
                                     }) +
                                 Content("abc") + kEnd},
      {"octal-embedded-space",
       Patched(Spec("gap", '0', 3),
               [](char* b) { Put(b, f::kTarSize.offset, std::string("000 0000003\0", 12)); }) +
           Content("abc") + kEnd,
       false},
      {"devmajor-garbage-on-file",
       Patched(Spec("file"), [](char* b) { Put(b, f::kTarDevMajor.offset, "zz"); }) + kEnd, false},
      {"mode-with-type-bits",
       Patched(Spec("m"), [](char* b) { Put(b, f::kTarMode.offset, "0107755"); }) + kEnd},
      {"negative-size-symlink", Patched(Spec("l", '2'),
                                        [](char* b) {
                                          Put(b, f::kTarLinkname.offset, "target");
                                          PutBase256(b, f::kTarSize.offset, 12, -1);
                                        }) +
                                    kEnd},
      {"extension-header-negative-size",
       Patched(Spec("PaxHeaders/x", 'x'), [](char* b) { PutBase256(b, f::kTarSize.offset, 12, -1); }) +
           FileEntry("x", "x") + kEnd,
       false},
      {"typeflag-nul-negative-size-dir",
       Patched(Spec("d/", '\0'), [](char* b) { PutBase256(b, f::kTarSize.offset, 12, -1); }) + kEnd, false},
  };
}

// A signed checksum: the sum of the header bytes as signed chars, which old tars wrote.
std::string SignedChecksumHeader() {
  std::string block = SyntheticTar::Header(Spec("caf\xe9", '0', 1));
  std::memset(block.data() + f::kTarChecksum.offset, ' ', f::kTarChecksum.size);
  int sum = 0;
  for (char c : block) sum += static_cast<signed char>(c);
  char field[8];
  std::snprintf(field, sizeof(field), "%06o", sum);
  std::memcpy(block.data() + f::kTarChecksum.offset, field, 7);
  return block;
}

std::vector<CraftedTar> BlockCases() {
  std::string good = FileEntry("a", std::string(3000, 'a'));
  std::string base256_checksum = SyntheticTar::Header(Spec("b256sum"));
  {
    // The right sum, stored in base-256, which Go's checksum parser does not take.
    std::string probe = base256_checksum;
    std::memset(probe.data() + f::kTarChecksum.offset, ' ', f::kTarChecksum.size);
    int64_t sum = 0;
    for (char c : probe) sum += static_cast<unsigned char>(c);
    std::memset(base256_checksum.data() + f::kTarChecksum.offset, 0, f::kTarChecksum.size);
    base256_checksum[f::kTarChecksum.offset] = static_cast<char>(0x80);
    base256_checksum[f::kTarChecksum.offset + 6] = static_cast<char>((sum >> 8) & 0xff);
    base256_checksum[f::kTarChecksum.offset + 7] = static_cast<char>(sum & 0xff);
  }
  std::string bad_checksum = FileEntry("checked", "x");
  bad_checksum[10] ^= 1;
  std::string hidden = FileEntry("hidden", "H");
  return {
      {"checksum-signed", SignedChecksumHeader() + Content("s") + kEnd},
      {"checksum-space-terminated",
       [] {
         std::string block = SyntheticTar::Header(Spec("spaced-sum"));
         std::string field = block.substr(f::kTarChecksum.offset, 6) + "  ";  // "NNNNNN  " for "NNNNNN\0 "
         block.replace(f::kTarChecksum.offset, 8, field);
         return block + kEnd;
       }()},
      {"empty-archive", kEnd},
      {"zero-bytes", ""},
      {"root-and-unclean-names",
       SyntheticTar().Dir("./").Dir("./a//b/").File("./a//b/./c", "c").bytes() + kEnd},
      {"full-name-and-prefix-fields", Patched(Spec(std::string(100, 'n'), '0', 1),
                                              [](char* b) {
                                                Put(b, f::kTarPrefix.offset, std::string(155, 'p'));
                                                Put(b, f::kTarUname.offset, std::string(32, 'u'));
                                              }) +
                                          Content("f") + kEnd},
      {"truncated-padding", FileEntry("a", "x").substr(0, 600), false},
      {"symlink-empty-target", SyntheticTar().Symlink("l", "").bytes() + kEnd, false},
      {"absolute-name", FileEntry("/etc/passwd", "x") + kEnd, false},
      {"checksum-base256", base256_checksum + kEnd, false},
      {"checksum-wrong", bad_checksum + kEnd, false},
      {"lone-zero-block-then-entry", FileEntry("a", "x") + kZeroBlock + FileEntry("b", "y") + kEnd, false},
      {"single-zero-block-then-eof", FileEntry("a", "x") + kZeroBlock},
      {"no-end-marker", FileEntry("a", "x")},
      {"trailing-garbage", FileEntry("a", "x") + kEnd + std::string(700, 'g')},
      {"zero-block-then-partial-block", FileEntry("a", "x") + kZeroBlock + std::string(100, 'x'), false},
      {"truncated-content", good.substr(0, 1500), false},
      {"truncated-header", good.substr(0, 300), false},
      {"typeflag-nul-dir-by-pax-path",
       Pax({{"path", "d2/"}}) + SyntheticTar::Header(Spec("d", '\0', hidden.size())) + hidden + kEnd},
      {"typeflag-nul-file-and-dir", SyntheticTar::Header(Spec("f", '\0', 2)) + Content("ff") +
                                        SyntheticTar::Header(Spec("dd/", '\0')) + kEnd},
      {"dir-with-size", SyntheticTar::Header(Spec("d", '5', 512)) + FileEntry("b", "y") + kEnd},
      {"hardlink-with-size-hiding-entry",
       FileEntry("target", "t") +
           Patched(Spec("h", '1', hidden.size()), [](char* b) { Put(b, f::kTarLinkname.offset, "target"); }) +
           hidden + kEnd},
      {"hardlink-target-with-dotdot",
       FileEntry("a", "x") + SyntheticTar().Hardlink("h", "d/../a").bytes() + kEnd, false},
      {"duplicate-entries",
       SyntheticTar().File("a", "1").File("a", "22").Dir("d").Dir("d").Symlink("a", "elsewhere").bytes() +
           kEnd},
      {"contiguous-file-type-7",
       FileEntry("c", "") + SyntheticTar::Header(Spec("seven", '7', 1)) + Content("7") + kEnd, false},
      {"unknown-type-volume-label", SyntheticTar::Header(Spec("label", 'V')) + kEnd, false},
      {"control-characters-in-name", FileEntry("esc\x1b[31mred\n\x07 x", "x") + kEnd},
      {"hardlink-dot-target", FileEntry("a", "x") + SyntheticTar().Hardlink("h", "./a").bytes() + kEnd},
      {"device-nodes",
       [] {
         TarHeaderSpec chr = Spec("null", '3');
         chr.dev_major = 1;
         chr.dev_minor = 3;
         TarHeaderSpec blk = Spec("sda", '4');
         blk.dev_major = 8;
         return SyntheticTar::Header(chr) + SyntheticTar::Header(blk) +
                SyntheticTar::Header(Spec("fifo", '6')) + kEnd;
       }()},
  };
}

std::vector<CraftedTar> LayoutCases() {
  auto v7 = [](char* b) { std::memset(b + f::kTarMagic.offset, 0, 512 - f::kTarMagic.offset); };
  std::string star_prefix(131, 'p');
  return {
      {"garbage-magic-drops-owner-names",
       Patched(Spec("odd", '0', 1), [](char* b) { Put(b, f::kTarMagic.offset, "xxxxx"); }) + Content("o") +
           kEnd},
      {"v7-header", Patched(Spec("v7", '0', 1), v7) + Content("7") + kEnd},
      {"v7-device-ignores-device-fields", Patched(Spec("v7dev", '3'),
                                                  [&](char* b) {
                                                    v7(b);
                                                    Put(b, f::kTarDevMajor.offset, "junk");
                                                  }) +
                                              kEnd},
      {"ustar-prefix",
       Patched(Spec("leaf", '0', 1), [](char* b) { Put(b, f::kTarPrefix.offset, "some/dir"); }) +
           Content("p") + kEnd},
      {"star-format", Patched(Spec("starname", '0', 1),
                              [&](char* b) {
                                Put(b, kStarPrefix, star_prefix);
                                Put(b, kStarAtime, std::string("00000000000\0", 12));
                                Put(b, kStarCtime, std::string("00000000000\0", 12));
                                Put(b, kStarTrailer, std::string("tar\0", 4));
                              }) +
                          Content("s") + kEnd},
      {"star-bad-atime",
       Patched(Spec("starname", '0', 1),
               [&](char* b) {
                 Put(b, kStarAtime, "bad");
                 Put(b, kStarTrailer, std::string("tar\0", 4));
               }) +
           Content("s") + kEnd,
       false},
  };
}

void Append(std::vector<CraftedTar>* out, std::vector<CraftedTar> more) {
  for (auto& c : more) out->push_back(std::move(c));
}

}  // namespace

std::vector<CraftedTar> CraftedTars() {
  std::vector<CraftedTar> all = GlobalHeaderCases();
  Append(&all, LocalHeaderCases());
  Append(&all, GnuCases());
  Append(&all, NumericFieldCases());
  Append(&all, BlockCases());
  Append(&all, LayoutCases());
  return all;
}

}  // namespace tide::testing
