#ifndef TIDE_SNAPSHOTTER_CONFIG_H_
#define TIDE_SNAPSHOTTER_CONFIG_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "fetch/prefetch_mode.h"
#include "format/index_limits.h"
#include "fuse/startup_readahead.h"

namespace tide::snapshotter {

// tide-snapshotter's config.toml (see examples/tide-snapshotter.toml). Sizes accept an integer
// number of bytes or a string such as "10GiB"; durations an integer of seconds or a string such as
// "30s" or "1m30s".
struct Config {
  std::filesystem::path root = "/var/lib/tide-snapshotter";
  std::string address = "/run/tide-snapshotter/tide-snapshotter.sock";
  std::filesystem::path hosts_dir = "/etc/containerd/certs.d";
  uint64_t cache_max_bytes = 0;  // 0: no limit
  fetch::PrefetchMode prefetch = fetch::PrefetchMode::kStartup;
  int prefetch_concurrency = 4;
  int prefetch_startup_streams = 2;  // startup-set range requests in flight per node
  uint64_t prefetch_bandwidth = 0;   // bytes per second, 0: no limit
  absl::Duration read_timeout = absl::Seconds(30);
  // A read waiting for a chunk another request carries fetches it itself once that request has sent
  // nothing for this long, or would not reach the chunk within it (fetch::FetcherOptions). 0: off.
  absl::Duration read_hedge_delay = absl::Milliseconds(500);
  // A hosts.toml mirror with a host after it that sends nothing for this long is left for that host.
  absl::Duration mirror_stall_timeout = absl::Seconds(5);
  // Read-ahead for cold reads (docs/prefetch.md): blob bytes fetched beyond a read that continues a
  // file, and beyond a read that ends one (the next files in the tar); requests carrying it in
  // flight per node. 0 bytes: off.
  uint64_t read_ahead = 4 << 20;
  // A read this far past the end of the file's last read still continues it (a sparse forward sweep).
  uint64_t read_ahead_gap = 2 << 20;
  uint64_t read_ahead_neighbours = 4 << 20;
  // Files up to this size are fetched whole at their first read; a shared object's head brings the
  // segments the loader reads next (read_ahead_loader).
  uint64_t read_ahead_whole_file = 4 << 20;
  bool read_ahead_loader = true;
  // The head of a Python extension module also brings the other extension modules in its directory.
  bool read_ahead_siblings = true;
  // A walked shared object's constructors' code is fetched once its dependencies are queued.
  bool read_ahead_constructors = true;
  // The head of a package's compiled __init__ brings the modules its names foretell (ImportWalk).
  bool read_ahead_imports = true;
  int read_ahead_streams = 4;
  // Threads per node that walk shared objects' dependencies (read_ahead_loader); 0: none.
  int read_ahead_walkers = 8;
  // The kernel read-ahead of every layer once its workload has started (its reads went quiet),
  // for files opened from then on.
  uint64_t kernel_readahead = uint64_t{1} << 20;
  // The kernel read-ahead of every layer while its workload starts: equal to `tidectl optimize
  // --record-readahead`, so cold reads ask for the ranges a startup set was recorded from, and
  // learned profiles are recorded and served through the same window.
  uint64_t startup_readahead = uint64_t{fuse::kStartupReadaheadKb} << 10;
  // Read a layer's startup set through its mount as its chunks become local, so the kernel holds
  // those pages and names before the container asks (fuse::PageCacheWarmer).
  bool warm_page_cache = true;
  // Memory one layer's index may take to load; a layer over it takes the ordinary (non-lazy) path.
  uint64_t max_index_memory = format::kDefaultMaxIndexMemory;
  // Lazy layer mounts outlive a restart or upgrade of the daemon: each FUSE connection is also held
  // by a tide-fuse-keeper process, SIGTERM leaves the mounts in place, and the next daemon serves
  // them again, so running containers never see the restart (docs/restart.md).
  bool keep_mounts_on_restart = true;
  // eStargz and zstd:chunked layers (a stargz TOC) are mounted lazily. Their TOC names no diff_id:
  // only prefetch = "all" proves a layer is what its chainID stands for (docs/security.md); false
  // sends them down the ordinary path.
  bool lazy_estargz = true;
  // Gzip layers with no index of their own are mounted lazily when the image's repository has a
  // gzip side index artifact for them (`tidectl index`; found through the referrers API or tag).
  bool lazy_gzip_index = true;
  // Image manifest digest -> the gzip side index artifact to use for it, instead of the image's
  // referrers (docs/format.md §12: pinning). tidectl pull --index wins over an entry here.
  std::map<std::string, std::string> side_index_pins;
  // The tide-fuse-keeper binary; empty: the one beside the tide-snapshotter executable.
  std::filesystem::path fuse_keeper;
  // "IPV4-ADDRESS:PORT" where GET /metrics answers in the Prometheus text format (docs/metrics.md);
  // empty: no metrics endpoint.
  std::string metrics_address;
  log::Level log_level = log::Level::kInfo;
};

// InvalidArgument names the source, the key and why (unknown key, wrong type, bad value).
absl::StatusOr<Config> ParseConfig(std::string_view toml, std::string_view source_name);
absl::StatusOr<Config> LoadConfig(const std::filesystem::path& path);

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_CONFIG_H_
