// Ranged-read throughput and latency of the registry client against the curl command line tool
// fetching the same ranges from the same local docker-registry in the same run. Prints ratios
// (tide / curl throughput); never asserts on time.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "registry/blob_range_reader.h"
#include "registry/registry_client.h"
#include "test/support/registry/test_http_server.h"
#include "test/support/registry_process.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace {

using Clock = std::chrono::steady_clock;
using tide::registry::ByteRange;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::vector<ByteRange> MakeRanges(uint64_t blob_size, uint64_t size, int count, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<ByteRange> out;
  for (int i = 0; i < count; ++i) {
    uint64_t off = std::uniform_int_distribution<uint64_t>(0, blob_size - size)(rng);
    out.push_back({off, size});
  }
  return out;
}

// Runs curl once over all ranges (one process, connection reuse; --parallel for concurrency).
double CurlSeconds(const tide::testing::TempDir& dir, const std::string& url,
                   const std::vector<ByteRange>& ranges, int parallel) {
  std::string config;
  for (size_t i = 0; i < ranges.size(); ++i) {
    absl::StrAppend(&config, i == 0 ? "" : "next\n", "url = \"", url, "\"\nrange = \"", ranges[i].offset, "-",
                    ranges[i].offset + ranges[i].length - 1, "\"\noutput = \"/dev/null\"\n");
  }
  tide::testing::WriteFile(dir / "curl.cfg", config);
  std::vector<std::string> argv = {"curl", "-sS", "--fail", "-K", (dir / "curl.cfg").string()};
  if (parallel > 1) {
    argv.insert(argv.end(),
                {"--parallel", "--parallel-immediate", "--parallel-max", std::to_string(parallel)});
  }
  auto start = Clock::now();
  auto r = tide::testing::RunCommand(argv, std::chrono::seconds(600));
  double s = Seconds(Clock::now() - start);
  if (r.exit_code != 0) std::fprintf(stderr, "curl failed: %s\n", r.output.c_str());
  return s;
}

}  // namespace

// Times the same ranges through the client and through curl; prints one table row per case.
int RunCases(const char* backend, tide::registry::BlobRangeReader& reader, const std::string& url,
             const tide::testing::TempDir& dir) {
  struct Case {
    uint64_t size;
    int count;
  };
  std::vector<Case> cases = {{1 << 10, 1000}, {64 << 10, 500}, {1 << 20, 100}, {16 << 20, 16}};
  // Each side runs this many times, alternating, and the fastest run counts: the machine may be
  // shared, and the best run is the least disturbed one.
  constexpr int kRounds = 3;
  std::vector<char> buffer(16 << 20);
  const char* only = std::getenv("TIDE_BENCH_RANGE_SIZE");  // e.g. 1024 to run one size
  for (const Case& c : cases) {
    if (only != nullptr && std::to_string(c.size) != only) continue;
    auto ranges = MakeRanges(reader.size(), c.size, c.count, static_cast<uint32_t>(c.size));
    for (int parallel : {1, 16}) {
      // Warm up connections for both sides before timing.
      (void)reader.ReadInto(0, std::span<char>(buffer.data(), 1024));
      double tide_s = 1e9;
      double curl_s = 1e9;
      std::vector<std::vector<char>> bufs;
      std::vector<std::span<char>> outs;
      if (parallel > 1) {
        bufs.assign(ranges.size(), std::vector<char>(c.size));
        for (auto& b : bufs) outs.emplace_back(b.data(), b.size());
      }
      for (int round = 0; round < kRounds; ++round) {
        auto start = Clock::now();
        absl::Status s;
        if (parallel == 1) {
          for (const ByteRange& r : ranges) {
            s = reader.ReadInto(r.offset, std::span<char>(buffer.data(), r.length));
            if (!s.ok()) break;
          }
        } else {
          s = reader.ReadRangesInto(ranges, outs);
        }
        tide_s = std::min(tide_s, Seconds(Clock::now() - start));
        if (!s.ok()) {
          std::fprintf(stderr, "%s\n", s.ToString().c_str());
          return 1;
        }
        curl_s = std::min(curl_s, CurlSeconds(dir, url, ranges, parallel));
      }
      double mb = static_cast<double>(c.size) * c.count / 1e6;
      std::printf("| %s | %s | %s | %d | %.1f | %.1f | %.2fx | %.0f | %.0f |\n", backend,
                  c.size >= (1 << 20) ? absl::StrCat(c.size >> 20, " MiB").c_str()
                                      : absl::StrCat(c.size >> 10, " KiB").c_str(),
                  parallel == 1 ? "sequential" : "16 concurrent", c.count, mb / tide_s, mb / curl_s,
                  curl_s / tide_s, tide_s * 1e6 / c.count, curl_s * 1e6 / c.count);
      std::fflush(stdout);
    }
  }
  return 0;
}

int main() {
  tide::testing::TempDir dir("tide-bench");
  auto reg = tide::testing::RegistryProcess::Start();
  if (!reg.ok()) {
    std::fprintf(stderr, "%s\n", reg.status().ToString().c_str());
    return 1;
  }
  tide::testing::WriteFile(dir / "docker-config.json", "{}");
  tide::registry::RegistryClientOptions options;
  options.docker_config_path = (dir / "docker-config.json").string();
  options.max_concurrent_ranges = 16;
  auto client = tide::registry::RegistryClient::Create(options);
  if (!client.ok()) return 1;
  auto ref = tide::registry::Reference::Parse((*reg)->host() + "/bench/blob:v1");
  const uint64_t kBlobSize = 64ull << 20;
  std::string blob(kBlobSize, '\0');
  std::mt19937_64 rng(1);
  for (size_t i = 0; i + 8 <= blob.size(); i += 8) {
    uint64_t v = rng();
    std::memcpy(blob.data() + i, &v, 8);
  }
  tide::Digest digest = tide::Digest::Of(blob);
  if (!(*client)->PushBlob(*ref, digest, blob).ok()) return 1;
  std::string url = absl::StrCat((*reg)->url(), "/v2/bench/blob/blobs/", digest.str());
  auto reader = (*client)->OpenBlob(*ref, digest, static_cast<int64_t>(kBlobSize));
  if (!reader.ok()) return 1;

  std::printf(
      "| server | range | mode | requests | tide MB/s | curl MB/s | tide/curl | tide us/req | curl us/req "
      "|\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  if (RunCases("docker-registry", **reader, url, dir) != 0) return 1;
  // The same against a minimal in-process server, where the server's own cost is small and the
  // client's per-request overhead shows.
  auto memory = tide::testing::TestHttpServer::Start([&blob](const tide::testing::TestHttpRequest& req) {
    tide::testing::TestHttpResponse resp;
    std::string range = req.Header("range");
    if (!range.starts_with("bytes=")) return tide::testing::TestHttpResponse{200, {}, blob};
    size_t dash = range.find('-');
    uint64_t a = std::stoull(range.substr(6, dash - 6));
    uint64_t b = std::stoull(range.substr(dash + 1));
    return tide::testing::TestHttpResponse{
        206,
        {{"Content-Range", absl::StrCat("bytes ", a, "-", b, "/", blob.size())}},
        blob.substr(a, b - a + 1)};
  });
  if (!memory.ok()) return 1;
  auto mem_ref = tide::registry::Reference::Parse((*memory)->host() + "/bench/blob:v1");
  auto mem_reader = (*client)->OpenBlob(*mem_ref, digest, static_cast<int64_t>(kBlobSize));
  if (!mem_reader.ok()) return 1;
  if (RunCases("in-process", **mem_reader,
               absl::StrCat((*memory)->url(), "/v2/bench/blob/blobs/", digest.str()), dir) != 0) {
    return 1;
  }
  return 0;
}
