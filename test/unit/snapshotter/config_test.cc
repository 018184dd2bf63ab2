#include "snapshotter/config.h"

#include <catch2/catch.hpp>
#include <cstdlib>

using tide::fetch::PrefetchMode;
using tide::snapshotter::ParseConfig;

TEST_CASE("config: every key parses", "[snapshotter][config]") {
  auto config = ParseConfig(R"(
root = "/srv/tide"
address = "/run/tide.sock"
hosts_dir = "/etc/tide/certs.d"
cache_max_bytes = "20GiB"
prefetch = "all"
prefetch_concurrency = 8
prefetch_startup_streams = 3
prefetch_bandwidth = 104857600
read_ahead = "8MiB"
read_ahead_gap = "1MiB"
read_ahead_neighbours = 0
read_ahead_whole_file = "1MiB"
read_ahead_loader = false
read_ahead_siblings = false
read_ahead_constructors = false
read_ahead_imports = false
read_ahead_streams = 0
read_ahead_walkers = 3
startup_readahead = "256KiB"
kernel_readahead = "512KiB"
warm_page_cache = false
read_timeout = "1m30s"
read_hedge_delay = "250ms"
mirror_stall_timeout = "2s"
log_level = "debug"
)",
                            "test.toml");
  REQUIRE(config.ok());
  CHECK(config->root == "/srv/tide");
  CHECK(config->address == "/run/tide.sock");
  CHECK(config->hosts_dir == "/etc/tide/certs.d");
  CHECK(config->cache_max_bytes == 20ULL << 30);
  CHECK(config->prefetch == PrefetchMode::kAll);
  CHECK(config->prefetch_concurrency == 8);
  CHECK(config->prefetch_startup_streams == 3);
  CHECK(config->prefetch_bandwidth == 104857600);
  CHECK(config->read_ahead == 8 << 20);
  CHECK(config->read_ahead_gap == 1 << 20);
  CHECK(config->read_ahead_neighbours == 0);
  CHECK(config->read_ahead_whole_file == 1 << 20);
  CHECK_FALSE(config->read_ahead_loader);
  CHECK_FALSE(config->read_ahead_siblings);
  CHECK_FALSE(config->read_ahead_constructors);
  CHECK_FALSE(config->read_ahead_imports);
  CHECK(config->read_ahead_streams == 0);
  CHECK(config->read_ahead_walkers == 3);
  CHECK(config->startup_readahead == 256 << 10);
  CHECK(config->kernel_readahead == 512 << 10);
  CHECK_FALSE(config->warm_page_cache);
  CHECK(config->read_timeout == absl::Seconds(90));
  CHECK(config->read_hedge_delay == absl::Milliseconds(250));
  CHECK(config->mirror_stall_timeout == absl::Seconds(2));
  CHECK(config->log_level == tide::log::Level::kDebug);
}

TEST_CASE("config: defaults for an empty file", "[snapshotter][config]") {
  auto config = ParseConfig("", "empty.toml");
  REQUIRE(config.ok());
  CHECK(config->prefetch == PrefetchMode::kStartup);
  CHECK(config->read_timeout == absl::Seconds(30));
  CHECK(config->read_hedge_delay == absl::Milliseconds(500));
  CHECK(config->startup_readahead == 128 << 10);  // what tidectl optimize records with
  CHECK(config->warm_page_cache);
  CHECK(config->root.is_absolute());
}

TEST_CASE("config: bad input names the file, the key and the reason", "[snapshotter][config]") {
  struct Case {
    std::string toml;
    std::string expect;
  };
  for (const Case& c : std::vector<Case>{
           {"rot = \"/x\"", "unknown key \"rot\""},
           {"prefetch = \"some\"", "prefetch"},
           {"prefetch_concurrency = 0", "prefetch_concurrency"},
           {"prefetch_startup_streams = 0", "prefetch_startup_streams"},
           {"prefetch_startup_streams = 65", "prefetch_startup_streams"},
           {"read_ahead = \"1GiB\"", "read_ahead"},
           {"read_ahead_gap = \"1GiB\"", "read_ahead_gap"},
           {"read_ahead_neighbours = \"300MiB\"", "read_ahead_neighbours"},
           {"read_ahead_whole_file = -1", "read_ahead_whole_file"},
           {"read_ahead_loader = 1", "read_ahead_loader"},
           {"read_ahead_siblings = \"yes\"", "read_ahead_siblings"},
           {"read_ahead_constructors = 0", "read_ahead_constructors"},
           {"read_ahead_imports = 1", "read_ahead_imports"},
           {"read_ahead_streams = 65", "read_ahead_streams"},
           {"read_ahead_streams = -1", "read_ahead_streams"},
           {"read_ahead_walkers = 65", "read_ahead_walkers"},
           {"read_ahead_walkers = -1", "read_ahead_walkers"},
           {"startup_readahead = \"1GiB\"", "startup_readahead"},
           {"kernel_readahead = \"1GiB\"", "kernel_readahead"},
           {"warm_page_cache = \"yes\"", "warm_page_cache"},
           {"prefetch_concurrency = \"4\"", "prefetch_concurrency"},
           {"cache_max_bytes = \"10 parsecs\"", "cache_max_bytes"},
           {"cache_max_bytes = -1", "cache_max_bytes"},
           {"read_timeout = \"soon\"", "read_timeout"},
           {"read_hedge_delay = \"-1s\"", "read_hedge_delay"},
           {"read_hedge_delay = \"3s\"\nread_timeout = \"3s\"", "shorter than read_timeout"},
           {"log_level = \"loud\"", "log_level"},
           {"root = \"relative/dir\"", "root"},
           {"root = ", "bad.toml"},
           {"[section]\nx = 1", "unknown key \"section\""},
       }) {
    INFO(c.toml);
    auto config = ParseConfig(c.toml, "bad.toml");
    REQUIRE_FALSE(config.ok());
    CHECK(absl::IsInvalidArgument(config.status()));
    std::string message(config.status().message());
    CHECK(message.find(c.expect) != std::string::npos);
    CHECK(message.find("bad.toml") != std::string::npos);
  }
}

TEST_CASE("config: read_hedge_delay may be 0 (off), and unset it stays inside a short read_timeout",
          "[snapshotter][config]") {
  auto off = ParseConfig("read_hedge_delay = \"0s\"", "c.toml");
  REQUIRE(off.ok());
  CHECK(off->read_hedge_delay == absl::ZeroDuration());
  auto short_timeout = ParseConfig("read_timeout = \"1s\"", "c.toml");
  REQUIRE(short_timeout.ok());
  CHECK(short_timeout->read_hedge_delay == absl::Milliseconds(250));
}

TEST_CASE("config: the shipped example config loads", "[snapshotter][config]") {
  auto config = tide::snapshotter::LoadConfig(std::string(std::getenv("TIDE_SOURCE_DIR")) +
                                              "/examples/tide-snapshotter.toml");
  INFO(config.status());
  REQUIRE(config.ok());
  CHECK(config->cache_max_bytes == 50ULL << 30);
  CHECK(config->prefetch_bandwidth == 200ULL << 20);
  CHECK(config->address == "/run/tide-snapshotter/tide-snapshotter.sock");
}

TEST_CASE("Config: keep_mounts_on_restart and fuse_keeper") {
  auto defaults = ParseConfig("", "c.toml");
  REQUIRE(defaults.ok());
  CHECK(defaults->keep_mounts_on_restart);
  CHECK(defaults->fuse_keeper.empty());
  auto set =
      ParseConfig("keep_mounts_on_restart = false\nfuse_keeper = \"/opt/tide/tide-fuse-keeper\"\n", "c.toml");
  REQUIRE(set.ok());
  CHECK_FALSE(set->keep_mounts_on_restart);
  CHECK(set->fuse_keeper == "/opt/tide/tide-fuse-keeper");
  auto not_bool = ParseConfig("keep_mounts_on_restart = \"yes\"\n", "c.toml");
  REQUIRE_FALSE(not_bool.ok());
  CHECK_THAT(std::string(not_bool.status().message()), Catch::Contains("keep_mounts_on_restart"));
  auto relative = ParseConfig("fuse_keeper = \"bin/keeper\"\n", "c.toml");
  REQUIRE_FALSE(relative.ok());
  CHECK_THAT(std::string(relative.status().message()), Catch::Contains("absolute"));
}

TEST_CASE("Config: lazy_gzip_index and side_index_pins") {
  auto defaults = ParseConfig("", "c.toml");
  REQUIRE(defaults.ok());
  CHECK(defaults->lazy_gzip_index);
  CHECK(defaults->side_index_pins.empty());
  const std::string image = "sha256:" + std::string(64, 'a');
  const std::string artifact = "sha256:" + std::string(64, 'b');
  auto set = ParseConfig(
      "lazy_gzip_index = false\n[side_index_pins]\n\"" + image + "\" = \"" + artifact + "\"\n", "c.toml");
  REQUIRE(set.ok());
  CHECK_FALSE(set->lazy_gzip_index);
  CHECK(set->side_index_pins.at(image) == artifact);
  auto bad = ParseConfig("[side_index_pins]\n\"" + image + "\" = \"latest\"\n", "c.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()), Catch::Contains("side_index_pins"));
  auto not_table = ParseConfig("side_index_pins = \"x\"\n", "c.toml");
  REQUIRE_FALSE(not_table.ok());
}

TEST_CASE("Config: metrics_address") {
  auto defaults = ParseConfig("", "c.toml");
  REQUIRE(defaults.ok());
  CHECK(defaults->metrics_address.empty());
  auto set = ParseConfig("metrics_address = \"127.0.0.1:9880\"\n", "c.toml");
  REQUIRE(set.ok());
  CHECK(set->metrics_address == "127.0.0.1:9880");
  CHECK_FALSE(ParseConfig("metrics_address = 9880\n", "c.toml").ok());
}
