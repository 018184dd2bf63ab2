#include "profile/layer_records.h"

#include <catch2/catch.hpp>

#include "layer/access_recorder.h"

using tide::Digest;
using tide::layer::AccessRecorder;
using tide::profile::LayerRecords;
using tide::profile::MergeLayerRecords;

namespace {
Digest D(char c) { return *Digest::Parse("sha256:" + std::string(64, c)); }
}  // namespace

TEST_CASE("reads recorded per layer merge into one profile in true order across layers", "[profile]") {
  // Two layers' recorders see interleaved reads, as an overlay over two FUSE mounts would.
  AccessRecorder lower;
  AccessRecorder upper;
  upper.Record(2, 0, 100);    // app/c
  lower.Record(1, 0, 4096);   // bin/busybox
  upper.Record(3, 0, 50);     // app/a
  lower.Record(1, 4096, 10);  // continues bin/busybox
  upper.Record(2, 100, 100);  // app/c again, after app/a: a read of its own
  auto lower_path = [](uint32_t id) { return id == 1 ? std::string("bin/busybox") : std::string("?"); };
  auto upper_path = [](uint32_t id) { return id == 2 ? std::string("app/c") : std::string("app/a"); };
  auto profile =
      MergeLayerRecords({{D('a'), lower.Snapshot(), lower_path}, {D('b'), upper.Snapshot(), upper_path}});
  REQUIRE(profile.layers == std::vector<Digest>{D('a'), D('b')});
  REQUIRE(profile.reads.size() == 4);
  CHECK(profile.reads[0].layer == 1);
  CHECK(profile.reads[0].path == "app/c");
  CHECK(profile.reads[1].layer == 0);
  CHECK(profile.reads[1].path == "bin/busybox");
  CHECK(profile.reads[1].length == 4106);
  CHECK(profile.reads[2].path == "app/a");
  CHECK(profile.reads[3].path == "app/c");
  CHECK(profile.reads[3].offset == 100);
  // The ranks the layer writer gets follow that order across layers.
  CHECK(profile.StartupFilesOf(1)[0].rank == 0);
  CHECK(profile.StartupFilesOf(0)[0].rank == 1);
  CHECK(profile.StartupFilesOf(1)[1].rank == 2);
}

TEST_CASE("layers without reads are still declared, in the given order", "[profile]") {
  AccessRecorder only;
  only.Record(0, 0, 1);
  auto profile = MergeLayerRecords({{D('a'), {}, [](uint32_t) { return std::string("x"); }},
                                    {D('b'), only.Snapshot(), [](uint32_t) { return std::string("y"); }}});
  REQUIRE(profile.layers.size() == 2);
  CHECK(profile.layers[0] == D('a'));
  REQUIRE(profile.reads.size() == 1);
  CHECK(profile.reads[0].layer == 1);
}
