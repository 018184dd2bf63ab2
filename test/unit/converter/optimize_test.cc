#include "converter/optimize.h"

#include <catch2/catch.hpp>

namespace tide::converter {
namespace {

oci::Descriptor Blob(const Digest& digest) {
  oci::Descriptor d;
  d.digest = digest;
  return d;
}

TEST_CASE("A profile's startup sets are found by diff_id, then by source blob digest") {
  Digest diff_id = Digest::Of("layer 0 tar");
  Digest blob = Digest::Of("layer 1 blob");
  Digest other = Digest::Of("a layer the profile never saw");
  profile::StartupProfile prof;
  prof.AddLayer(diff_id);
  prof.AddLayer(blob);
  prof.AddRead(0, "bin/app", 0, 100);
  prof.AddRead(1, "lib/libc.so", 4096, 10);
  prof.AddRead(0, "etc/app.conf", 0, 5);
  StartupForLayer startup = StartupFilesFromProfile(prof);

  SECTION("by diff_id, whatever the blob") {
    std::vector<format::StartupFile> files = startup(Blob(other), diff_id);
    REQUIRE(files.size() == 2);
    CHECK(files[0].path == "bin/app");
    CHECK(files[1].path == "etc/app.conf");
  }
  SECTION("by the source blob when the diff_id is unknown") {
    std::vector<format::StartupFile> files = startup(Blob(blob), other);
    REQUIRE(files.size() == 1);
    CHECK(files[0].path == "lib/libc.so");
    REQUIRE(files[0].ranges.size() == 1);
    CHECK(files[0].ranges[0].offset == 4096);
    CHECK(files[0].ranges[0].length == 10);
  }
  SECTION("a layer the profile does not name keeps its order") { CHECK(startup(Blob(other), other).empty()); }
  SECTION("the diff_id wins over the blob digest") {
    std::vector<format::StartupFile> files = startup(Blob(blob), diff_id);
    REQUIRE(files.size() == 2);
    CHECK(files[0].path == "bin/app");
  }
}

}  // namespace
}  // namespace tide::converter
