// Format benchmarks: conversion throughput and size against the zstd CLI on the same tar, lazy-read
// cost per chunk size, and index load time and memory for a 100k-entry layer.
//   format_bench [--tar FILE] [--chunk-sizes 262144,1048576,4194304] [--thresholds 0,65536]
//                [--entries 100000] [--runs 2] [--skip-convert] [--no-baseline]
// Without --tar it archives a realistic slice of this machine's /usr into $TMPDIR.

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "format/blob_reader.h"
#include "format/byte_io.h"
#include "format/layer_index.h"
#include "format/layer_writer.h"
#include "format/tar_header.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"
#include "test/support/thread_cpu_time.h"

namespace {

using tide::testing::ThreadCpuSeconds;

using Clock = std::chrono::steady_clock;
using tide::format::LayerIndex;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double RusageSeconds(int who) {
  rusage ru{};
  ::getrusage(who, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

std::vector<uint64_t> ParseList(const std::string& s) {
  std::vector<uint64_t> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(std::stoull(s.substr(pos, comma - pos)));
    pos = comma + 1;
  }
  return out;
}

uint64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

class CountingSink final : public tide::format::ByteSink {
 public:
  absl::Status Write(std::string_view data) override {
    size += data.size();
    return absl::OkStatus();
  }
  uint64_t size = 0;
};

// Best of `runs` wall times of a shell command; `cpu` gets the CPU seconds of the best run.
double TimeShell(const std::string& cmd, int runs, double* cpu = nullptr) {
  double best = 1e9;
  for (int i = 0; i < runs; ++i) {
    double cpu_start = RusageSeconds(RUSAGE_CHILDREN);
    auto start = Clock::now();
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "command failed: %s\n", cmd.c_str());
      std::exit(1);
    }
    double wall = Seconds(start);
    if (wall < best && cpu) *cpu = RusageSeconds(RUSAGE_CHILDREN) - cpu_start;
    best = std::min(best, wall);
  }
  return best;
}

struct ConvertFigures {
  double seconds = 0;
  double cpu_seconds = 0;
  // Sums over the interleaved runs: each writer run is paired with a `zstd -T0 -3` run right before
  // it, so a machine whose load changes over time affects both sides alike.
  double paired_tide_seconds = 0;
  double paired_zstd_seconds = 0;
  double paired_tide_cpu = 0;
  double paired_zstd_cpu = 0;
  uint64_t blob_size = 0;
  uint64_t chunks = 0;
  double first_4k_bytes = 0;  // mean compressed bytes fetched to read a file's first 4 KiB
  double files_per_frame = 0;
};

ConvertFigures Convert(const std::string& tar_path, uint32_t chunk_size, uint32_t threshold, int runs,
                       bool baseline) {
  ConvertFigures f;
  f.seconds = 1e9;
  std::string blob_path = tar_path + ".tide";
  for (int i = 0; i < runs; ++i) {
    tide::UniqueFd in(::open(tar_path.c_str(), O_RDONLY | O_CLOEXEC));
    tide::UniqueFd out(::open(blob_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    tide::format::FdSource source(in.get());
    tide::format::FdSink sink(out.get());
    if (baseline) {
      double zcpu = 0;
      f.paired_zstd_seconds +=
          TimeShell("zstd -q -f -T0 -3 '" + tar_path + "' -o '" + tar_path + ".pair.zst'", 1, &zcpu);
      f.paired_zstd_cpu += zcpu;
      ::unlink((tar_path + ".pair.zst").c_str());
    }
    tide::format::LayerWriterOptions options;
    options.chunk_size = chunk_size;
    options.small_file_threshold = threshold;
    double cpu_start = RusageSeconds(RUSAGE_SELF);
    auto start = Clock::now();
    auto result = tide::format::WriteLayer(source, sink, options);
    double s = Seconds(start);
    double cpu = RusageSeconds(RUSAGE_SELF) - cpu_start;
    if (!result.ok()) {
      std::fprintf(stderr, "convert failed: %s\n", result.status().ToString().c_str());
      std::exit(1);
    }
    f.paired_tide_seconds += s;
    f.paired_tide_cpu += cpu;
    if (s < f.seconds) f.cpu_seconds = cpu;
    f.seconds = std::min(f.seconds, s);
    f.blob_size = result->blob_size;
    f.chunks = result->chunk_count;
  }
  tide::UniqueFd blob(::open(blob_path.c_str(), O_RDONLY | O_CLOEXEC));
  tide::format::FdRangeReader reader(blob.get());
  auto index = tide::format::LoadIndexFromFooter(reader, FileSize(blob_path));
  if (!index.ok()) {
    std::fprintf(stderr, "index: %s\n", index.status().ToString().c_str());
    std::exit(1);
  }
  uint64_t files = 0, bytes = 0;
  for (tide::format::EntryId id = 0; id < index->entry_count(); ++id) {
    const auto& a = index->attr(id);
    if (a.type != tide::format::EntryType::kRegular || a.size == 0 || a.parent == tide::format::kNoEntry)
      continue;
    auto range = index->ChunksFor(id, 0, 4096);
    for (uint32_t c = range.first; c < range.first + range.count; ++c)
      bytes += index->chunk(c).compressed_size;
    ++files;
  }
  f.first_4k_bytes = files ? static_cast<double>(bytes) / static_cast<double>(files) : 0;
  f.files_per_frame = f.chunks ? static_cast<double>(files) / static_cast<double>(f.chunks) : 0;
  ::unlink(blob_path.c_str());
  return f;
}

// A layer shaped like a big site-packages tree: `entries` entries in directories of 100.
std::string SyntheticTar(size_t entries) {
  std::string tar;
  char block[tide::format::kTarBlockSize];
  auto header = [&](const std::string& name, char type, uint64_t size) {
    std::memset(block, 0, sizeof(block));
    std::memcpy(block, name.data(), std::min<size_t>(name.size(), 99));
    std::snprintf(block + 100, 8, "%07o", type == '5' ? 0755u : 0644u);
    std::snprintf(block + 108, 8, "%07o", 0u);
    std::snprintf(block + 116, 8, "%07o", 0u);
    std::snprintf(block + 124, 12, "%011llo", static_cast<unsigned long long>(size));
    std::snprintf(block + 136, 12, "%011o", 1700000000u);
    block[156] = type;
    std::memcpy(block + 257,
                "ustar\0"
                "00",
                8);
    std::memcpy(block + 265, "root", 4);
    std::memcpy(block + 297, "root", 4);
    tide::format::SetTarChecksum(block);
    tar.append(block, sizeof(block));
  };
  for (size_t i = 0; i < entries; ++i) {
    char dir[64];
    std::snprintf(dir, sizeof(dir), "usr/lib/python3/dist-packages/pkg%04zu", i / 100);
    if (i % 100 == 0) {
      header(dir, '5', 0);
      continue;
    }
    char name[128];
    std::snprintf(name, sizeof(name), "%s/module_%06zu.py", dir, i);
    std::string content = "# module " + std::to_string(i) + "\nimport os\n";
    header(name, '0', content.size());
    tar += content;
    tar.append((512 - content.size() % 512) % 512, '\0');
  }
  tar.append(1024, '\0');
  return tar;
}

void IndexBench(size_t entries) {
  std::string tar = SyntheticTar(entries);
  tide::format::StringSource source(tar);
  tide::format::StringSink sink;
  auto result = tide::format::WriteLayer(source, sink);
  if (!result.ok()) {
    std::fprintf(stderr, "convert failed: %s\n", result.status().ToString().c_str());
    std::exit(1);
  }
  std::string frame = sink.data().substr(result->index_offset, result->index_size);
  std::vector<double> times;
  std::vector<double> cpu_times;
  size_t memory = 0, chunk_bytes = 0, count = 0;
  for (int i = 0; i < 15; ++i) {
    auto start = Clock::now();
    double cpu_start = ThreadCpuSeconds();
    auto index = LayerIndex::Parse(frame, result->index_digest);
    cpu_times.push_back((ThreadCpuSeconds() - cpu_start) * 1000);
    times.push_back(Seconds(start) * 1000);
    if (!index.ok()) {
      std::fprintf(stderr, "load failed: %s\n", index.status().ToString().c_str());
      std::exit(1);
    }
    memory = index->MemoryUsage();
    chunk_bytes = index->chunks().size() * sizeof(tide::format::ChunkInfo);
    count = index->entry_count();
  }
  std::sort(times.begin(), times.end());
  std::sort(cpu_times.begin(), cpu_times.end());
  std::printf("\n## Index load (%zu tar entries, synthetic site-packages layout)\n\n", entries);
  std::printf(
      "| index frame | load wall median | load wall best | load CPU median | memory | per entry (excl. "
      "chunks) | chunks |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- |\n");
  std::printf("| %.2f MiB | %.1f ms | %.1f ms | %.1f ms | %.2f MiB | %.0f B | %zu (%.2f MiB) |\n",
              static_cast<double>(frame.size()) / (1 << 20), times[times.size() / 2], times[0],
              cpu_times[cpu_times.size() / 2], static_cast<double>(memory) / (1 << 20),
              static_cast<double>(memory - chunk_bytes) / count, result->chunk_count,
              static_cast<double>(chunk_bytes) / (1 << 20));
}

}  // namespace

int main(int argc, char** argv) {
  std::string tar;
  std::vector<uint64_t> chunk_sizes = {256 << 10, 1 << 20, 2 << 20, 4 << 20};
  std::vector<uint64_t> thresholds = {0, 256 << 10};
  size_t entries = 100000;
  bool convert = true;
  bool baseline = true;
  int runs = 2;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--tar")
      tar = next();
    else if (a == "--chunk-sizes")
      chunk_sizes = ParseList(next());
    else if (a == "--thresholds")
      thresholds = ParseList(next());
    else if (a == "--entries")
      entries = std::stoull(next());
    else if (a == "--runs")
      runs = std::stoi(next());
    else if (a == "--skip-convert")
      convert = false;
    else if (a == "--no-baseline")
      baseline = false;
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  std::optional<tide::testing::TempDir> dir;
  if (convert) {
    if (tar.empty()) {
      dir.emplace("tide-format-bench");
      tar = (dir->path() / "usr.tar").string();
      std::string cmd =
          "tar -C / -cf " + tar +
          " usr/bin usr/include usr/share/doc usr/lib/python3 usr/lib/python3.11 usr/share/locale"
          " 2>/dev/null";
      if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "warning: tar reported errors\n");
    }
    uint64_t tar_size = FileSize(tar);
    double mib = static_cast<double>(tar_size) / (1 << 20);
    std::string out = tar + ".zst";
    double zstd_mt = 1, zstd_mt_cpu = 1;
    uint64_t zstd_mt_size = 1, zstd_size = 1;
    if (baseline) {
      zstd_mt = TimeShell("zstd -q -f -T0 -3 '" + tar + "' -o '" + out + "'", runs, &zstd_mt_cpu);
      zstd_mt_size = FileSize(out);
      TimeShell("zstd -q -f -T1 -3 '" + tar + "' -o '" + out + "'", 1);
      zstd_size = FileSize(out);
    }
    ::unlink(out.c_str());
    long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    std::printf("## Conversion (%s, %.0f MiB, %ld CPUs)\n\n", tar.c_str(), mib, cpus);
    std::printf("baseline: `zstd -T0 -3` %.0f MiB/s (%.1f CPU s), %.1f MiB; plain `zstd -3` %.1f MiB\n\n",
                mib / zstd_mt, zstd_mt_cpu, static_cast<double>(zstd_mt_size) / (1 << 20),
                static_cast<double>(zstd_size) / (1 << 20));
    std::printf(
        "| chunk size | small-file threshold | MiB/s | throughput vs zstd -T0 -3 | CPU time vs zstd -T0 -3 | "
        "size vs zstd -3 | frames | files/frame | mean bytes fetched for a file's first 4 KiB |\n");
    std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (uint64_t cs : chunk_sizes) {
      for (uint64_t th : thresholds) {
        ConvertFigures f = Convert(tar, static_cast<uint32_t>(cs), static_cast<uint32_t>(th), runs, baseline);
        std::printf("| %llu KiB | %llu KiB | %.0f | %.2fx | %.2fx | %.3fx | %llu | %.1f | %.0f KiB |\n",
                    static_cast<unsigned long long>(cs >> 10), static_cast<unsigned long long>(th >> 10),
                    mib / f.seconds, f.paired_zstd_seconds / f.paired_tide_seconds,
                    f.paired_tide_cpu / f.paired_zstd_cpu,
                    static_cast<double>(f.blob_size) / static_cast<double>(zstd_size),
                    static_cast<unsigned long long>(f.chunks), f.files_per_frame, f.first_4k_bytes / 1024);
        std::fflush(stdout);
      }
    }
  }
  if (entries > 0) IndexBench(entries);
  return 0;
}
