#include "tidectl/conversion_flags.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace tide::tidectl {
namespace {

// Parses `args` as `convert` would and turns the flags into conversion options.
absl::StatusOr<converter::ConvertOptions> Parse(std::vector<std::string> args) {
  CLI::App app;
  ConversionFlags flags;
  AddConversionFlags(&app, &flags);
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  app.parse(args);
  return ToConvertOptions(flags);
}

TEST_CASE("convert's chunk size flags reach the writer, and bad sizes name their flag") {
  auto defaults = Parse({});
  REQUIRE(defaults.ok());
  CHECK(defaults->writer.chunk_size == format::kDefaultChunkSize);
  CHECK(defaults->writer.file_chunk_size == format::kDefaultFileChunkSize);

  auto set = Parse({"--chunk-size", "4M", "--file-chunk-size", "1MiB", "--zstd-level", "9"});
  REQUIRE(set.ok());
  CHECK(set->writer.chunk_size == 4u << 20);
  CHECK(set->writer.file_chunk_size == 1u << 20);
  CHECK(set->writer.zstd_level == 9);

  auto small = Parse({"--file-chunk-size", "1K"});
  REQUIRE_FALSE(small.ok());
  CHECK(small.status().message().find("--file-chunk-size 1K") != std::string::npos);
  auto garbage = Parse({"--chunk-size", "lots"});
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.status().message().find("--chunk-size") != std::string::npos);
  CHECK_FALSE(Parse({"--zstd-level", "23"}).ok());
}

}  // namespace
}  // namespace tide::tidectl
