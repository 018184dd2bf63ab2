#include "profile/read_order.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "test/support/temp_dir.h"

namespace tide::profile {
namespace {

Digest D(char c) { return *Digest::Parse("sha256:" + std::string(64, c)); }

StartupProfile OneLayer(char digest, std::vector<std::string> paths) {
  StartupProfile p;
  p.AddLayer(D(digest));
  for (auto& path : paths) p.reads.push_back({0, std::move(path), 0, 10});
  return p;
}

TEST_CASE("read order files round-trip and reject bad input, naming file and line") {
  tide::testing::TempDir dir;
  const auto path = dir / "x.order";
  REQUIRE(WriteReadOrder(path, {7, 3, 18446744073709551615ull}).ok());
  auto back = ReadReadOrder(path, 3);
  REQUIRE(back.ok());
  CHECK(*back == std::vector<uint64_t>{7, 3, 18446744073709551615ull});
  auto count = ReadReadOrder(path, 2);
  CHECK(absl::IsInvalidArgument(count.status()));
  CHECK(std::string(count.status().message()).find("3 lines for a profile of 2 reads") != std::string::npos);
  std::ofstream(path) << "1\nx2\n";
  auto bad = ReadReadOrder(path, 2);
  CHECK(absl::IsInvalidArgument(bad.status()));
  CHECK(std::string(bad.status().message()).find("x.order:2: not a decimal number") != std::string::npos);
  CHECK(absl::IsNotFound(ReadReadOrder(dir / "missing.order", 0).status()));
}

TEST_CASE("one-layer profiles merge by read order across layers") {
  std::vector<StartupProfile> layers = {OneLayer('a', {"bin/sh", "data/r"}),
                                        OneLayer('b', {"app/c", "app/a"})};
  // bin/sh 1, app/c 2, data/r 3, app/a 4.
  StartupProfile merged = MergeByReadOrder(layers, {{1, 3}, {2, 4}});
  REQUIRE(merged.layers == std::vector<Digest>{D('a'), D('b')});
  std::vector<std::pair<size_t, std::string>> got;
  for (const auto& r : merged.reads) got.emplace_back(r.layer, r.path);
  CHECK(got == std::vector<std::pair<size_t, std::string>>{
                   {0, "bin/sh"}, {1, "app/c"}, {0, "data/r"}, {1, "app/a"}});
  // Without numbers: layer by layer, in the given order.
  StartupProfile plain = MergeByReadOrder(layers, {});
  REQUIRE(plain.reads.size() == 4);
  CHECK(plain.reads[0].path == "bin/sh");
  CHECK(plain.reads[2].path == "app/c");
}

}  // namespace
}  // namespace tide::profile
