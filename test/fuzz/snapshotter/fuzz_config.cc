// libFuzzer target: tide-snapshotter's config.toml. What is accepted stays inside the bounds the
// daemon relies on.

#include <string_view>

#include "snapshotter/config.h"
#include "test/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = tide::snapshotter::ParseConfig(text, "fuzz.toml");
  if (!config.ok()) return 0;
  FUZZ_CHECK(config->root.is_absolute());
  FUZZ_CHECK(config->prefetch_concurrency >= 1 && config->prefetch_concurrency <= 1024);
  FUZZ_CHECK(config->prefetch_startup_streams >= 1 && config->prefetch_startup_streams <= 64);
  FUZZ_CHECK(config->max_index_memory >= (uint64_t{1} << 20));
  FUZZ_CHECK(config->read_ahead <= (uint64_t{256} << 20) &&
             config->read_ahead_neighbours <= (uint64_t{256} << 20));
  FUZZ_CHECK(config->read_ahead_whole_file <= (uint64_t{256} << 20));
  FUZZ_CHECK(config->read_ahead_gap <= (uint64_t{256} << 20));
  FUZZ_CHECK(config->read_ahead_streams >= 0 && config->read_ahead_streams <= 64);
  FUZZ_CHECK(config->read_ahead_walkers >= 0 && config->read_ahead_walkers <= 64);
  FUZZ_CHECK(config->fuse_keeper.empty() || config->fuse_keeper.is_absolute());
  return 0;
}
