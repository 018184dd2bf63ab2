#include "snapshotter/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"

namespace tide::snapshotter {
namespace {

class Reader {
 public:
  Reader(const toml::table& table, std::string_view source) : table_(table), source_(source) {}

  absl::Status Error(std::string_view key, std::string_view why) const {
    return absl::InvalidArgumentError(absl::StrCat(Sv(source_), ": key \"", Sv(key), "\": ", Sv(why)));
  }

  absl::Status String(std::string_view key, std::string* out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    auto value = node->value<std::string>();
    if (!node->is_string() || !value) return Error(key, "must be a string");
    if (value->empty()) return Error(key, "must not be empty");
    *out = *value;
    return absl::OkStatus();
  }

  absl::Status Bool(std::string_view key, bool* out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    if (!node->is_boolean()) return Error(key, "must be true or false");
    *out = *node->value<bool>();
    return absl::OkStatus();
  }

  absl::Status Int(std::string_view key, int64_t min, int64_t* out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    if (!node->is_integer()) return Error(key, "must be an integer");
    int64_t v = *node->value<int64_t>();
    if (v < min) return Error(key, absl::StrCat("must be at least ", min, ", got ", v));
    *out = v;
    return absl::OkStatus();
  }

  // An integer of bytes or "<number>[B|K|KB|KiB|M|MB|MiB|G|GB|GiB|T|TB|TiB]".
  absl::Status Size(std::string_view key, uint64_t* out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    if (node->is_integer()) {
      int64_t v = *node->value<int64_t>();
      if (v < 0) return Error(key, "must not be negative");
      *out = static_cast<uint64_t>(v);
      return absl::OkStatus();
    }
    if (!node->is_string())
      return Error(key, "must be an integer of bytes or a size string such as \"10GiB\"");
    std::string text = *node->value<std::string>();
    size_t digits = 0;
    while (digits < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    uint64_t number = 0;
    if (digits == 0 || !absl::SimpleAtoi(text.substr(0, digits), &number)) {
      return Error(key, absl::StrCat("bad size \"", text, "\""));
    }
    std::string unit = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text.substr(digits)));
    static const std::pair<const char*, uint64_t> kUnits[] = {{"", 1},
                                                              {"b", 1},
                                                              {"k", 1000},
                                                              {"kb", 1000},
                                                              {"kib", 1ULL << 10},
                                                              {"m", 1000000},
                                                              {"mb", 1000000},
                                                              {"mib", 1ULL << 20},
                                                              {"g", 1000000000},
                                                              {"gb", 1000000000},
                                                              {"gib", 1ULL << 30},
                                                              {"t", 1000000000000},
                                                              {"tb", 1000000000000},
                                                              {"tib", 1ULL << 40}};
    for (const auto& [name, factor] : kUnits) {
      if (unit == name) {
        if (number > UINT64_MAX / factor) return Error(key, absl::StrCat("size \"", text, "\" is too large"));
        *out = number * factor;
        return absl::OkStatus();
      }
    }
    return Error(key, absl::StrCat("unknown size unit in \"", text, "\""));
  }

  // `zero_ok`: 0 means off.
  absl::Status Duration(std::string_view key, absl::Duration* out, bool zero_ok = false) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    if (node->is_integer()) {
      int64_t v = *node->value<int64_t>();
      if (v < 0 || (v == 0 && !zero_ok))
        return Error(key, zero_ok ? "must not be negative" : "must be positive");
      *out = absl::Seconds(v);
      return absl::OkStatus();
    }
    if (!node->is_string()) return Error(key, "must be seconds or a duration string such as \"30s\"");
    std::string text = *node->value<std::string>();
    absl::Duration d;
    if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration() ||
        (d == absl::ZeroDuration() && !zero_ok)) {
      return Error(key, absl::StrCat("bad duration \"", text, "\" (want e.g. \"30s\", \"500ms\", \"2m\")"));
    }
    *out = d;
    return absl::OkStatus();
  }

  // A table of "sha256:..." keys to "sha256:..." values.
  absl::Status DigestMap(std::string_view key, std::map<std::string, std::string>* out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    const toml::table* pins = node->as_table();
    if (pins == nullptr) return Error(key, "must be a table of image manifest digest = artifact digest");
    for (const auto& [image, artifact] : *pins) {
      auto value = artifact.value<std::string>();
      if (!Digest::Parse(image.str()).ok() || !value || !Digest::Parse(*value).ok()) {
        return Error(
            key, absl::StrCat("entry \"", Sv(image.str()), "\" must map a sha256 digest to a sha256 digest"));
      }
      (*out)[std::string(image.str())] = *value;
    }
    return absl::OkStatus();
  }

 private:
  const toml::table& table_;
  std::string_view source_;
};

constexpr std::string_view kKeys[] = {"root",
                                      "address",
                                      "hosts_dir",
                                      "cache_max_bytes",
                                      "prefetch",
                                      "prefetch_concurrency",
                                      "prefetch_startup_streams",
                                      "prefetch_bandwidth",
                                      "read_timeout",
                                      "read_hedge_delay",
                                      "mirror_stall_timeout",
                                      "read_ahead",
                                      "read_ahead_gap",
                                      "read_ahead_neighbours",
                                      "read_ahead_whole_file",
                                      "read_ahead_loader",
                                      "read_ahead_siblings",
                                      "read_ahead_constructors",
                                      "read_ahead_imports",
                                      "read_ahead_streams",
                                      "read_ahead_walkers",
                                      "startup_readahead",
                                      "kernel_readahead",
                                      "warm_page_cache",
                                      "max_index_memory",
                                      "keep_mounts_on_restart",
                                      "lazy_estargz",
                                      "lazy_gzip_index",
                                      "side_index_pins",
                                      "fuse_keeper",
                                      "metrics_address",
                                      "log_level"};

absl::Status CheckKnownKeys(const toml::table& table, std::string_view source) {
  for (const auto& [key, node] : table) {
    bool known = false;
    for (std::string_view k : kKeys) known = known || key.str() == k;
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(Sv(source), ": unknown key \"", Sv(key.str()), "\""));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Config> ParseConfig(std::string_view text, std::string_view source_name) {
  toml::table table;
  try {
    table = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << e.source().begin;
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(source_name), ": ", where.str(), ": ", Sv(e.description())));
  }
  TIDE_RETURN_IF_ERROR(CheckKnownKeys(table, source_name));
  Reader r(table, source_name);
  Config config;
  std::string root = config.root.string();
  TIDE_RETURN_IF_ERROR(r.String("root", &root));
  config.root = root;
  TIDE_RETURN_IF_ERROR(r.String("address", &config.address));
  std::string hosts_dir = config.hosts_dir.string();
  TIDE_RETURN_IF_ERROR(r.String("hosts_dir", &hosts_dir));
  config.hosts_dir = hosts_dir;
  TIDE_RETURN_IF_ERROR(r.Size("cache_max_bytes", &config.cache_max_bytes));
  std::string prefetch = "startup";
  TIDE_RETURN_IF_ERROR(r.String("prefetch", &prefetch));
  auto mode = fetch::ParsePrefetchMode(prefetch);
  if (!mode.ok()) {
    return r.Error("prefetch",
                   absl::StrCat("must be \"none\", \"startup\" or \"all\", got \"", prefetch, "\""));
  }
  config.prefetch = *mode;
  int64_t concurrency = config.prefetch_concurrency;
  TIDE_RETURN_IF_ERROR(r.Int("prefetch_concurrency", 1, &concurrency));
  if (concurrency > 1024) return r.Error("prefetch_concurrency", "must be at most 1024");
  config.prefetch_concurrency = static_cast<int>(concurrency);
  int64_t streams = config.prefetch_startup_streams;
  TIDE_RETURN_IF_ERROR(r.Int("prefetch_startup_streams", 1, &streams));
  if (streams > 64) return r.Error("prefetch_startup_streams", "must be at most 64");
  config.prefetch_startup_streams = static_cast<int>(streams);
  TIDE_RETURN_IF_ERROR(r.Size("prefetch_bandwidth", &config.prefetch_bandwidth));
  TIDE_RETURN_IF_ERROR(r.Duration("read_timeout", &config.read_timeout));
  // Unset, it stays well inside a short read_timeout.
  config.read_hedge_delay = std::min(config.read_hedge_delay, config.read_timeout / 4);
  TIDE_RETURN_IF_ERROR(r.Duration("read_hedge_delay", &config.read_hedge_delay, /*zero_ok=*/true));
  if (config.read_hedge_delay >= config.read_timeout) {
    return r.Error("read_hedge_delay", "must be shorter than read_timeout");
  }
  TIDE_RETURN_IF_ERROR(r.Duration("mirror_stall_timeout", &config.mirror_stall_timeout));
  TIDE_RETURN_IF_ERROR(r.Size("read_ahead", &config.read_ahead));
  TIDE_RETURN_IF_ERROR(r.Size("read_ahead_gap", &config.read_ahead_gap));
  TIDE_RETURN_IF_ERROR(r.Size("read_ahead_neighbours", &config.read_ahead_neighbours));
  // Bounded: each byte of read-ahead is a buffer byte of a request in flight.
  if (config.read_ahead > (uint64_t{256} << 20)) return r.Error("read_ahead", "must be at most 256MiB");
  if (config.read_ahead_gap > (uint64_t{256} << 20))
    return r.Error("read_ahead_gap", "must be at most 256MiB");
  if (config.read_ahead_neighbours > (uint64_t{256} << 20))
    return r.Error("read_ahead_neighbours", "must be at most 256MiB");
  TIDE_RETURN_IF_ERROR(r.Size("read_ahead_whole_file", &config.read_ahead_whole_file));
  if (config.read_ahead_whole_file > (uint64_t{256} << 20))
    return r.Error("read_ahead_whole_file", "must be at most 256MiB");
  TIDE_RETURN_IF_ERROR(r.Bool("read_ahead_loader", &config.read_ahead_loader));
  TIDE_RETURN_IF_ERROR(r.Bool("read_ahead_siblings", &config.read_ahead_siblings));
  TIDE_RETURN_IF_ERROR(r.Bool("read_ahead_constructors", &config.read_ahead_constructors));
  TIDE_RETURN_IF_ERROR(r.Bool("read_ahead_imports", &config.read_ahead_imports));
  int64_t read_ahead_streams = config.read_ahead_streams;
  TIDE_RETURN_IF_ERROR(r.Int("read_ahead_streams", 0, &read_ahead_streams));
  if (read_ahead_streams > 64) return r.Error("read_ahead_streams", "must be at most 64");
  config.read_ahead_streams = static_cast<int>(read_ahead_streams);
  int64_t read_ahead_walkers = config.read_ahead_walkers;
  TIDE_RETURN_IF_ERROR(r.Int("read_ahead_walkers", 0, &read_ahead_walkers));
  if (read_ahead_walkers > 64) return r.Error("read_ahead_walkers", "must be at most 64");
  config.read_ahead_walkers = static_cast<int>(read_ahead_walkers);
  TIDE_RETURN_IF_ERROR(r.Size("startup_readahead", &config.startup_readahead));
  TIDE_RETURN_IF_ERROR(r.Bool("warm_page_cache", &config.warm_page_cache));
  if (config.startup_readahead > (uint64_t{64} << 20))
    return r.Error("startup_readahead", "must be at most 64MiB");
  TIDE_RETURN_IF_ERROR(r.Size("kernel_readahead", &config.kernel_readahead));
  if (config.kernel_readahead > (uint64_t{64} << 20))
    return r.Error("kernel_readahead", "must be at most 64MiB");
  TIDE_RETURN_IF_ERROR(r.Size("max_index_memory", &config.max_index_memory));
  if (config.max_index_memory < (uint64_t{1} << 20))
    return r.Error("max_index_memory", "must be at least 1 MiB");
  TIDE_RETURN_IF_ERROR(r.Bool("keep_mounts_on_restart", &config.keep_mounts_on_restart));
  TIDE_RETURN_IF_ERROR(r.Bool("lazy_estargz", &config.lazy_estargz));
  TIDE_RETURN_IF_ERROR(r.Bool("lazy_gzip_index", &config.lazy_gzip_index));
  TIDE_RETURN_IF_ERROR(r.DigestMap("side_index_pins", &config.side_index_pins));
  std::string keeper;
  TIDE_RETURN_IF_ERROR(r.String("fuse_keeper", &keeper));
  config.fuse_keeper = keeper;
  if (!config.fuse_keeper.empty() && !config.fuse_keeper.is_absolute())
    return r.Error("fuse_keeper", "must be an absolute path");
  TIDE_RETURN_IF_ERROR(r.String("metrics_address", &config.metrics_address));
  std::string level = "info";
  TIDE_RETURN_IF_ERROR(r.String("log_level", &level));
  auto parsed = log::ParseLevel(level);
  if (!parsed.ok()) return r.Error("log_level", Sv(parsed.status().message()));
  config.log_level = *parsed;
  if (!config.root.is_absolute()) return r.Error("root", "must be an absolute path");
  return config;
}

absl::StatusOr<Config> LoadConfig(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("config file ", path.string(), " cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), path.string());
}

}  // namespace tide::snapshotter
