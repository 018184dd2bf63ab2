// Chunk cache store cost per chunk against the floor of one plain file per chunk.
//   cache_bench [--dir DIR] [--chunks 50000] [--size 8192] [--runs 3]
// zstd:chunked and eStargz layers make one chunk per small file, so a cold start stores tens of
// thousands of small chunks (50k before ready on the SD-webui example); each store is a file.
// The baseline writes the same bytes as plain files (open, write, close) into 256 directories on the
// same filesystem, in the same run: what any one-file-per-chunk store costs at least.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "cache/chunk_cache.h"
#include "common/sha256.h"
#include "common/unique_fd.h"
#include "test/support/thread_cpu_time.h"

namespace {

using tide::testing::ThreadCpuSeconds;

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Cost {
  double wall_us = 0;
  double cpu_us = 0;
};

struct Chunk {
  tide::Sha256Bytes digest;
  std::string hex;
};

// Adds the wall and thread CPU time of one call to `cost`.
template <typename F>
bool Timed(Cost& cost, F&& op) {
  const auto wall = Clock::now();
  const double cpu = ThreadCpuSeconds();
  const bool ok = op();
  cost.wall_us += std::chrono::duration<double, std::micro>(Clock::now() - wall).count();
  cost.cpu_us += (ThreadCpuSeconds() - cpu) * 1e6;
  return ok;
}

bool WritePlain(const fs::path& path, const std::string& data) {
  tide::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    std::fprintf(stderr, "create %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  return ::write(fd.get(), data.data(), data.size()) == static_cast<ssize_t>(data.size());
}

}  // namespace

int main(int argc, char** argv) {
  fs::path base = fs::temp_directory_path();
  size_t count = 50000;
  size_t size = 8192;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--dir")
      base = argv[i + 1];
    else if (flag == "--chunks")
      count = std::stoul(argv[i + 1]);
    else if (flag == "--size")
      size = std::stoul(argv[i + 1]);
    else if (flag == "--runs")
      runs = std::stoi(argv[i + 1]);
  }
  const fs::path dir = base / ("tide-cache-bench." + std::to_string(::getpid()));
  std::vector<Chunk> chunks(count);
  std::vector<std::string> data(count);
  for (size_t i = 0; i < count; ++i) {
    data[i] = std::string(size, static_cast<char>('a' + i % 26));
    std::memcpy(data[i].data(), &i, sizeof(i));
    chunks[i].digest = tide::Sha256Of(data[i]);
    chunks[i].hex = tide::HexEncode(chunks[i].digest);
  }
  std::printf("cache_bench: %zu chunks of %zu B on %s, median of %d\n", count, size, base.c_str(), runs);
  std::vector<Cost> plain;
  std::vector<Cost> cache;
  for (int run = 0; run < runs; ++run) {
    fs::remove_all(dir);
    fs::create_directories(dir / "plain");
    for (int s = 0; s < 256; ++s) {
      char shard[3];
      std::snprintf(shard, sizeof(shard), "%02x", s);
      fs::create_directories(dir / "plain" / shard);
    }
    auto opened = tide::cache::ChunkCache::Open(dir / "cache", UINT64_MAX);
    if (!opened.ok()) {
      std::fprintf(stderr, "open cache: %s\n", std::string(opened.status().message()).c_str());
      return 1;
    }
    ::sync();
    // Interleaved, chunk by chunk, so that both meet the same writeback and allocator state.
    Cost p, c;
    for (size_t i = 0; i < count; ++i) {
      const bool ok =
          Timed(p,
                [&] {
                  return WritePlain(dir / "plain" / chunks[i].hex.substr(0, 2) / chunks[i].hex, data[i]);
                }) &&
          Timed(c, [&] {
            absl::Status st = (*opened)->Put(chunks[i].digest, data[i]);
            if (!st.ok()) std::fprintf(stderr, "put: %s\n", std::string(st.message()).c_str());
            return st.ok();
          });
      if (!ok) return 1;
    }
    const double n = static_cast<double>(count);
    plain.push_back({.wall_us = p.wall_us / n, .cpu_us = p.cpu_us / n});
    cache.push_back({.wall_us = c.wall_us / n, .cpu_us = c.cpu_us / n});
  }
  fs::remove_all(dir);
  auto median = [](std::vector<Cost> v, double Cost::*field) {
    std::sort(v.begin(), v.end(), [field](const Cost& a, const Cost& b) { return a.*field < b.*field; });
    return v[v.size() / 2].*field;
  };
  const double pw = median(plain, &Cost::wall_us), pc = median(plain, &Cost::cpu_us);
  const double cw = median(cache, &Cost::wall_us), cc = median(cache, &Cost::cpu_us);
  std::printf("plain files (floor): %.1f us wall, %.1f us CPU per chunk\n", pw, pc);
  std::printf("ChunkCache::Put:     %.1f us wall, %.1f us CPU per chunk (%.2fx, %.2fx the floor)\n", cw, cc,
              cw / pw, cc / pc);
  return 0;
}
