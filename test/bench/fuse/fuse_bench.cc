// Layer filesystem benchmarks. Every figure is a ratio to a baseline measured in the same run:
//  - warm sequential / random reads of a fully cached layer vs the same files on local ext4
//  - `find -exec stat` over ~100k entries vs the same tree on ext4
//  - cold lazy reads vs (bytes they need / link throughput measured with one whole-blob GET)
//  - memory per mounted layer and per 100k entries
//  - the effect of each kernel caching option
// Usage: fuse_bench [--data-mb N] [--entries N] [--out FILE]   (root; TIDE_SOURCE_DIR for scripts)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log.h"
#include "layer/layer_mount.h"
#include "layer/layer_mount_manager.h"
#include "registry/reference.h"
#include "test/integration/layer/layer_builder.h"
#include "test/integration/layer/restartable_registry.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace tide::layer {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "fuse_bench: " << what << std::endl;
  std::exit(1);
}

template <typename T>
T Must(absl::StatusOr<T> v, const std::string& what) {
  if (!v.ok()) Die(absl::StrCat(what, ": ", v.status().message()));
  return std::move(*v);
}

void DropFileCache(const fs::path& root) {
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file(ec)) continue;
    UniqueFd fd(::open(e.path().c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.valid()) ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
  }
}

std::vector<std::string> DataFiles(int count) {
  std::vector<std::string> names;
  for (int i = 0; i < count; ++i) names.push_back(absl::StrCat("data/file", i, ".bin"));
  return names;
}

// Bytes per second reading every file whole, 1 MiB at a time.
double SeqRead(const fs::path& root, const std::vector<std::string>& files) {
  std::vector<char> buf(1 << 20);
  uint64_t total = 0;
  auto start = Clock::now();
  for (const auto& f : files) {
    UniqueFd fd(::open((root / f).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) Die("open " + (root / f).string());
    ssize_t n;
    while ((n = ::read(fd.get(), buf.data(), buf.size())) > 0) total += static_cast<uint64_t>(n);
  }
  return static_cast<double>(total) / Seconds(start);
}

// 4 KiB reads per second at random offsets.
double RandRead(const fs::path& root, const std::vector<std::string>& files, int ops) {
  std::vector<UniqueFd> fds;
  std::vector<uint64_t> sizes;
  for (const auto& f : files) {
    fds.emplace_back(::open((root / f).c_str(), O_RDONLY | O_CLOEXEC));
    sizes.push_back(fs::file_size(root / f));
  }
  std::mt19937_64 rng(7);
  char buf[4096];
  auto start = Clock::now();
  for (int i = 0; i < ops; ++i) {
    size_t f = rng() % fds.size();
    off_t off = static_cast<off_t>((rng() % (sizes[f] / 4096)) * 4096);
    if (::pread(fds[f].get(), buf, sizeof(buf), off) != sizeof(buf)) Die("short random read");
  }
  return ops / Seconds(start);
}

double FindStat(const fs::path& root) {
  auto start = Clock::now();
  auto r = tide::testing::RunShell(
      absl::StrCat("find ", root.string(), " -exec stat --format=%i {} + > /dev/null"),
      std::chrono::seconds(600));
  if (r.exit_code != 0) Die("find -exec stat: " + r.output);
  return Seconds(start);
}

uint64_t RssBytes() {
  std::ifstream f("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

void MakeDataTree(const fs::path& tree, int files, uint64_t file_bytes) {
  fs::create_directories(tree / "data");
  std::mt19937_64 rng(1);
  std::vector<uint64_t> block(1 << 17);
  for (int i = 0; i < files; ++i) {
    std::ofstream out(tree / absl::StrCat("data/file", i, ".bin"), std::ios::binary);
    for (uint64_t done = 0; done < file_bytes; done += block.size() * 8) {
      // Half random, half repetitive: compresses about 2:1 like typical binaries.
      for (size_t k = 0; k < block.size(); ++k) block[k] = (k / 512) % 2 ? rng() : k;
      out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(block.size() * 8));
    }
  }
}

void MakeManyEntries(const fs::path& tree, int entries) {
  for (int i = 0; i < entries; ++i) {
    fs::path dir = tree / "meta" / absl::StrCat("d", i / 1000);
    if (i % 1000 == 0) fs::create_directories(dir);
    std::ofstream(dir / absl::StrCat("f", i)) << "entry " << i << '\n';
  }
}

struct Report {
  std::ostringstream md;
  void Row(const std::string& what, double tide, double base, const std::string& unit,
           const std::string& note) {
    md << absl::StrFormat("| %s | %.1f %s | %.1f %s | %.2fx | %s |\n", what, tide, unit, base, unit,
                          base > 0 ? tide / base : 0.0, note);
    std::cerr << absl::StrFormat("%-50s tide %.1f %s, baseline %.1f %s, ratio %.2f\n", what, tide, unit, base,
                                 unit, base > 0 ? tide / base : 0.0);
  }
};

}  // namespace
}  // namespace tide::layer

int main(int argc, char** argv) {
  using namespace tide::layer;
  int data_mb = 512, entries = 100000;
  std::string out_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--data-mb")
      data_mb = std::atoi(argv[i + 1]);
    else if (a == "--entries")
      entries = std::atoi(argv[i + 1]);
    else if (a == "--out")
      out_path = argv[i + 1];
  }
  tide::log::Setup(tide::log::Level::kWarn);
  tide::testing::TempDir dir("tide-fuse-bench");
  const int files = 16;
  const uint64_t file_bytes = static_cast<uint64_t>(data_mb) * (1 << 20) / files;
  auto t0 = Clock::now();
  MakeDataTree(dir / "tree", files, file_bytes);
  MakeManyEntries(dir / "tree", entries);
  std::cerr << "trees built in " << Seconds(t0) << " s" << std::endl;
  t0 = Clock::now();
  auto data_layer = Must(testing::BuildLayer(dir / "tree", dir.path(), "bench"), "build layer");
  std::cerr << "layer built in " << Seconds(t0) << " s: " << data_layer.result.blob_size << " blob bytes, "
            << data_layer.result.entry_count << " entries, " << data_layer.result.chunk_count << " chunks"
            << std::endl;
  const fs::path ext4 = dir / "tree";
  const auto names = DataFiles(files);
  Report report;
  report.md << "| measurement | tide | baseline | ratio | notes |\n|---|---|---|---|---|\n";

  // Memory: index + mount of a layer with `entries` entries.
  auto cache = Must(tide::cache::ChunkCache::Open(dir / "cache", 64ull << 30), "cache");
  auto limiter = std::make_shared<tide::fetch::FetchLimiter>(tide::fetch::FetchLimits{});
  auto queue = std::make_shared<tide::fetch::PrefetchQueue>(limiter, tide::fetch::FetchLimits{});
  std::shared_ptr<tide::fetch::BlobSource> blob =
      Must(tide::fetch::FileBlobSource::Open(data_layer.blob), "open blob");
  uint64_t rss0 = RssBytes();
  auto index = Must(LoadLayerIndex(*blob, data_layer.index_location(), cache.get()), "index");
  uint64_t rss1 = RssBytes();

  // Warm the cache completely through prefetch (mode all), then measure with fresh mounts.
  LayerMountOptions warm;
  warm.prefetch = tide::fetch::PrefetchMode::kAll;
  fs::create_directories(dir / "mnt");
  {
    t0 = Clock::now();
    auto m = Must(LayerMount::Create("bench", blob, index, cache, queue, dir / "mnt", warm), "mount");
    uint64_t rss2 = RssBytes();
    if (!m->prefetcher()->WaitDone(std::chrono::minutes(10))) Die("prefetch did not finish");
    std::cerr << "prefetch all from a local file: " << Seconds(t0) << " s" << std::endl;
    report.md << absl::StrFormat(
        "\nMemory: index of %d entries / %d chunks: LayerIndex::MemoryUsage %.1f MiB (%.1f MiB per 100k "
        "entries; "
        "process RSS grew %.1f MiB loading it); mounting it (fetcher, overlay view, FUSE session and "
        "threads) "
        "added %.1f MiB RSS.\n\n",
        static_cast<int>(index->entry_count()), static_cast<int>(index->chunks().size()),
        static_cast<double>(index->MemoryUsage()) / (1 << 20),
        static_cast<double>(index->MemoryUsage()) / (1 << 20) * 100000.0 /
            static_cast<double>(index->entry_count()),
        static_cast<double>(rss1 - rss0) / (1 << 20), static_cast<double>(rss2 - rss1) / (1 << 20));
  }

  // Each measurement kind; an option variant runs only the kinds it can affect. Reads are best of 3
  // (the machine is shared), each from a fresh mount with the cache files and ext4 files dropped from
  // the page cache, so both sides read from the same disk.
  enum Kind { kSeq = 1, kReread = 2, kRandom = 4, kFind = 8 };
  auto fresh = [&](const LayerMountOptions& o) {
    DropFileCache(cache->root());
    DropFileCache(ext4 / "data");
    return Must(LayerMount::Create("bench", blob, index, cache, queue, dir / "mnt", o), "mount");
  };
  auto measure = [&](const std::string& label, const LayerMountOptions& o, int kinds) {
    if (kinds & (kSeq | kReread)) {
      double t_seq = 0, b_seq = 0, t_re = 0, b_re = 0;
      for (int rep = 0; rep < 3; ++rep) {
        auto m = fresh(o);
        t_seq = std::max(t_seq, SeqRead(dir / "mnt", names));
        b_seq = std::max(b_seq, SeqRead(ext4, names));
        t_re = std::max(t_re, SeqRead(dir / "mnt", names));
        b_re = std::max(b_re, SeqRead(ext4, names));
      }
      if (kinds & kSeq) {
        report.Row("sequential read, warm cache " + label, t_seq / (1 << 20), b_seq / (1 << 20), "MiB/s",
                   "both from disk (page cache dropped)");
      }
      if (kinds & kReread) {
        report.Row("sequential re-read in the same mount " + label, t_re / (1 << 20), b_re / (1 << 20),
                   "MiB/s", "page cache kept or not");
      }
    }
    if (kinds & kRandom) {
      double t_rand = 0, b_rand = 0;
      for (int rep = 0; rep < 3; ++rep) {
        auto m = fresh(o);
        t_rand = std::max(t_rand, RandRead(dir / "mnt", names, 20000));
        b_rand = std::max(b_rand, RandRead(ext4, names, 20000));
      }
      report.Row("random 4 KiB reads, warm cache " + label, t_rand, b_rand, "ops/s", "both from disk");
    }
    if (kinds & kFind) {
      auto m = fresh(o);
      double t_find = FindStat(dir / "mnt" / "meta");
      double b_find = FindStat(ext4 / "meta");
      report.Row("find -exec stat, first pass " + label, t_find, b_find, "s",
                 absl::StrCat(entries, " entries; fresh mount vs ext4 with hot dentries (just created)"));
      double t_find2 = FindStat(dir / "mnt" / "meta");
      double b_find2 = FindStat(ext4 / "meta");
      report.Row("find -exec stat, second pass " + label, t_find2, b_find2, "s", "kernel caches warm");
    }
  };
  LayerMountOptions base;
  base.prefetch = tide::fetch::PrefetchMode::kNone;
  // The window a workload's reads get once it has started (LayerMount widens to it).
  base.kernel.startup_readahead_kb = base.kernel.readahead_kb;
  measure("(defaults)", base, kSeq | kReread | kRandom | kFind);
  {
    LayerMountOptions o = base;
    o.kernel.entry_timeout = std::chrono::seconds(0);
    o.kernel.attr_timeout = std::chrono::seconds(0);
    measure("(entry/attr timeout 0)", o, kFind);
  }
  {
    LayerMountOptions o = base;
    o.kernel.keep_cache = false;
    measure("(keep_cache off)", o, kReread);
  }
  {
    LayerMountOptions o = base;
    o.kernel.readdirplus = false;
    measure("(readdirplus off)", o, kFind);
  }
  {
    LayerMountOptions o = base;
    o.kernel.readahead_kb = 128;
    o.kernel.startup_readahead_kb = 128;
    measure("(read_ahead_kb 128, the kernel default)", o, kSeq);
  }

  // Cold lazy reads from a local registry vs bytes needed / link throughput.
  {
    testing::RestartableRegistry registry;
    if (!registry.Start().ok()) Die("registry start");
    LayerMountManagerOptions mo;
    mo.cache_dir = dir / "cold-cache";
    mo.registry.plain_http = true;
    mo.defaults.prefetch = tide::fetch::PrefetchMode::kNone;
    auto manager = Must(LayerMountManager::Create(mo), "manager");
    auto ref = Must(tide::registry::Reference::Parse(registry.host() + "/bench/layer"), "ref");
    Must(manager->registry().PushBlobFile(ref, data_layer.result.blob_digest, data_layer.blob.string()),
         "push");
    t0 = Clock::now();
    auto whole = Must(manager->registry().FetchBlobBytes(ref, data_layer.result.blob_digest), "fetch blob");
    double link = static_cast<double>(whole.size()) / Seconds(t0);
    whole.clear();
    whole.shrink_to_fit();
    RemoteLayer remote{ref.String(), data_layer.result.blob_digest, data_layer.index_location()};
    fs::create_directories(dir / "cold-mnt");
    if (!manager->Mount(remote, dir / "cold-mnt").ok()) Die("cold mount");
    LayerMount* m = manager->Find(dir / "cold-mnt");
    std::vector<std::string> some(names.begin(), names.begin() + 4);
    t0 = Clock::now();
    SeqRead(dir / "cold-mnt", some);
    double took = Seconds(t0);
    double needed = static_cast<double>(m->fetcher().stats().blob_bytes);
    report.Row("cold sequential read of 4 files", took, needed / link, "s",
               absl::StrFormat(
                   "baseline = %.1f MiB needed / %.0f MiB/s link (one whole-blob GET); %d requests",
                   needed / (1 << 20), link / (1 << 20), static_cast<int>(m->fetcher().stats().requests)));
    uint64_t before = m->fetcher().stats().blob_bytes;
    uint64_t requests_before = m->fetcher().stats().requests;
    t0 = Clock::now();
    auto r = tide::testing::RunShell(absl::StrCat("cat $(find ", (dir / "cold-mnt/meta").string(),
                                                  " -name 'f*' | head -2000) > /dev/null"));
    took = Seconds(t0);
    if (r.exit_code != 0) Die("cat small files: " + r.output.substr(0, 2000));
    needed = static_cast<double>(m->fetcher().stats().blob_bytes - before);
    report.Row(
        "cold read of 2000 small files", took, needed / link, "s",
        absl::StrFormat("%.0f KiB fetched in %d requests: latency-bound, not bandwidth-bound", needed / 1024,
                        static_cast<int>(m->fetcher().stats().requests - requests_before)));
  }
  std::string md = report.md.str();
  std::cout << md;
  if (!out_path.empty()) std::ofstream(out_path) << md;
  return 0;
}
