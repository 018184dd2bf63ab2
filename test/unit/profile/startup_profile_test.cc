#include "profile/startup_profile.h"

#include <catch2/catch.hpp>

using tide::Digest;
using tide::profile::ParseProfile;
using tide::profile::SerializeProfile;
using tide::profile::StartupProfile;

namespace {
Digest D(char c) { return *Digest::Parse("sha256:" + std::string(64, c)); }
}  // namespace

TEST_CASE("profile text round-trips, keeping order across layers", "[profile]") {
  StartupProfile p;
  size_t l0 = p.AddLayer(D('a'));
  size_t l1 = p.AddLayer(D('b'));
  p.AddRead(l1, "usr/bin/python3", 0, 4096);
  p.AddRead(l0, "etc/odd\nname\\x", 10, 20);
  p.AddRead(l1, "usr/lib/libtorch.so", 1 << 20, 8192);
  std::string text = SerializeProfile(p);
  auto back = ParseProfile(text, "mem");
  REQUIRE(back.ok());
  REQUIRE(back->layers == p.layers);
  REQUIRE(back->reads.size() == 3);
  CHECK(back->reads[0].layer == 1);
  CHECK(back->reads[1].path == "etc/odd\nname\\x");
  CHECK(back->reads[2].offset == (1u << 20));
  CHECK(SerializeProfile(*back) == text);
}

TEST_CASE("sequential reads coalesce; startup files merge ranges in first-access order", "[profile]") {
  StartupProfile p;
  size_t l = p.AddLayer(D('a'));
  p.AddRead(l, "b", 0, 100);
  p.AddRead(l, "b", 100, 100);  // continues the previous read
  p.AddRead(l, "a", 0, 10);
  p.AddRead(l, "b", 500, 10);
  p.AddRead(l, "b", 150, 200);  // overlaps the first range
  CHECK(p.reads.size() == 4);
  auto files = p.StartupFilesOf(l);
  REQUIRE(files.size() == 2);
  CHECK(files[0].path == "b");
  CHECK(files[1].path == "a");
  REQUIRE(files[0].ranges.size() == 2);
  CHECK(files[0].ranges[0].offset == 0);
  CHECK(files[0].ranges[0].length == 350);
  CHECK(files[0].ranges[1].offset == 500);
  CHECK(p.StartupFilesOf(7).empty());
}

TEST_CASE("bad profiles are rejected with the line and the reason", "[profile]") {
  auto check = [](const std::string& text, const std::string& want) {
    auto r = ParseProfile(text, "p.txt");
    REQUIRE(!r.ok());
    INFO(r.status().message());
    CHECK(std::string(r.status().message()).find(want) != std::string::npos);
  };
  check("", "p.txt: empty profile");
  check("hello\n", "p.txt:1: not a tide profile");
  check("tide-profile 1\nlayer 1 sha256:" + std::string(64, 'a') + "\n",
        "p.txt:2: layer number 1 out of sequence");
  check("tide-profile 1\nlayer 0 sha256:zz\n", "p.txt:2:");
  check("tide-profile 1\nread 0 0 1 a\n", "p.txt:2: read names layer 0, which is not declared");
  std::string head = "tide-profile 1\nlayer 0 sha256:" + std::string(64, 'a') + "\n";
  check(head + "read 0 x 1 a\n", "p.txt:3: offset \"x\" is not a decimal number");
  check(head + "read 0 0 0 a\n", "p.txt:3: bad range");
  check(head + "read 0 0 1 /etc/passwd\n", "not a relative layer path");
  check(head + "read 0 0 1 a\\q\n", "unknown escape");
  check(head + "frobnicate\n", "p.txt:3: unknown keyword \"frobnicate\"");
}

TEST_CASE("startup files carry the profile-wide index of their first read as rank", "[profile]") {
  StartupProfile p;
  size_t l0 = p.AddLayer(D('a'));
  size_t l1 = p.AddLayer(D('b'));
  p.AddRead(l1, "app/c", 0, 10);       // 0
  p.AddRead(l0, "bin/busybox", 0, 5);  // 1
  p.AddRead(l1, "app/a", 0, 10);       // 2
  p.AddRead(l1, "app/c", 100, 10);     // 3: not the first read of app/c
  p.AddRead(l0, "etc/passwd", 0, 5);   // 4
  auto upper = p.StartupFilesOf(l1);
  REQUIRE(upper.size() == 2);
  CHECK(upper[0].path == "app/c");
  CHECK(upper[0].rank == 0);
  CHECK(upper[1].path == "app/a");
  CHECK(upper[1].rank == 2);
  auto lower = p.StartupFilesOf(l0);
  REQUIRE(lower.size() == 2);
  CHECK(lower[0].rank == 1);
  CHECK(lower[1].rank == 4);
}
