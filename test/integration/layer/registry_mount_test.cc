// Layers served lazily from a real docker-registry: a real program run from an overlay of tide
// mounts, registry outages, corrupted blobs, warm restarts, unmount under blocked readers, tidectl.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "layer/image_manifests.h"
#include "layer/index_prefetcher.h"
#include "layer/layer_metrics.h"
#include "layer/layer_mount_manager.h"
#include "oci/manifest.h"
#include "oci/media_types.h"
#include "registry/reference.h"
#include "test/integration/layer/layer_builder.h"
#include "test/integration/layer/restartable_registry.h"
#include "test/integration/layer/tree_compare.h"
#include "test/support/registry/fault_proxy.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace tide::layer {
namespace {

namespace fs = std::filesystem;
using tide::testing::ReadFile;
using tide::testing::RunCommand;
using tide::testing::TempDir;
using tide::testing::WriteFile;

constexpr unsigned long kFuseMagic = 0x65735546;

struct Env {
  TempDir dir{"tide-fuse-reg"};
  testing::RestartableRegistry registry;
  std::unique_ptr<LayerMountManager> manager;

  Env() { REQUIRE(registry.Start().ok()); }

  LayerMountManagerOptions Options(std::chrono::milliseconds read_timeout = std::chrono::seconds(30)) {
    LayerMountManagerOptions o;
    o.cache_dir = dir / "cache";
    o.registry.plain_http = true;
    o.registry.retry.max_attempts = 2;
    o.registry.retry.budget = std::chrono::seconds(1);
    o.registry.connect_timeout = std::chrono::seconds(2);
    o.defaults.prefetch = fetch::PrefetchMode::kNone;
    o.defaults.fetcher.read_timeout = read_timeout;
    return o;
  }
  void StartManager(const LayerMountManagerOptions& o) {
    auto m = LayerMountManager::Create(o);
    REQUIRE(m.ok());
    manager = std::move(*m);
  }
  RemoteLayer Push(const testing::BuiltLayer& layer, const std::string& repo = "tide/test") {
    auto ref = registry::Reference::Parse(registry.host() + "/" + repo);
    REQUIRE(ref.ok());
    auto pushed = manager->registry().PushBlobFile(*ref, layer.result.blob_digest, layer.blob.string());
    INFO(pushed.status().message());
    REQUIRE(pushed.ok());
    return RemoteLayer{ref->String(), layer.result.blob_digest, layer.index_location()};
  }
  fs::path Mount(const RemoteLayer& layer, const std::string& name) {
    fs::path mnt = dir / ("mnt-" + name);
    fs::create_directories(mnt);
    absl::Status st = manager->Mount(layer, mnt);
    INFO(st.message());
    REQUIRE(st.ok());
    return mnt;
  }
};

// A layer with a big multi-chunk file and a small one.
testing::BuiltLayer BuildBigLayer(const fs::path& base) {
  fs::create_directories(base / "tree");
  REQUIRE(RunCommand({"sh", "-c", "head -c 8388608 /dev/urandom > " + (base / "tree/big.bin").string()})
              .exit_code == 0);
  WriteFile(base / "tree/small.txt", "small\n");
  format::LayerWriterOptions wo;
  wo.chunk_size = 256 << 10;
  auto layer = testing::BuildLayer(base / "tree", base, "big", wo);
  REQUIRE(layer.ok());
  return std::move(*layer);
}

// Flips one bit in the middle of a chunk's stored bytes, behind the registry's back.
void FlipByteOf(const format::ChunkInfo& chunk, const fs::path& blob_data) {
  std::fstream f(blob_data, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f.good());
  const auto at = static_cast<std::streamoff>(chunk.compressed_offset + chunk.compressed_size / 2);
  f.seekg(at);
  char c = static_cast<char>(f.get());
  f.seekp(at);
  f.put(static_cast<char>(c ^ 0x20));
}

// pread that reports errno instead of -1.
std::pair<ssize_t, int> PRead(const fs::path& path, std::string& buf, off_t off) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return {-1, errno};
  ssize_t n = ::pread(fd.get(), buf.data(), buf.size(), off);
  return {n, n < 0 ? errno : 0};
}

TEST_CASE("python3 runs from an overlay on a lazily mounted layer, fetching a small part of it") {
  Env env;
  env.StartManager(env.Options());
  REQUIRE(RunCommand({testing::TestScript("make-python-rootfs.sh").string(), (env.dir / "rootfs").string()})
              .exit_code == 0);
  auto layer = testing::BuildLayer(env.dir / "rootfs", env.dir.path(), "python");
  REQUIRE(layer.ok());
  fs::path mnt = env.Mount(env.Push(*layer), "python");
  LayerMount* mount = env.manager->Find(mnt);
  REQUIRE(mount != nullptr);

  fs::path merged = env.dir / "merged";
  for (const char* d : {"merged", "upper", "work"}) fs::create_directories(env.dir / d);
  std::string opts = absl::StrCat("lowerdir=", mnt.string(), ",upperdir=", (env.dir / "upper").string(),
                                  ",workdir=", (env.dir / "work").string());
  REQUIRE(::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) == 0);
  auto run =
      RunCommand({"chroot", merged.string(), "/usr/bin/python3", "-c",
                  "import json, email, sqlite3; print(json.dumps({'ok': sqlite3.sqlite_version != ''}))"});
  ::umount2(merged.c_str(), MNT_DETACH);
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(run.output.find("{\"ok\": true}") != std::string::npos);
  const uint64_t fetched = mount->fetcher().stats().blob_bytes;
  WARN("python3 startup fetched " << fetched << " of " << layer->result.blob_size << " blob bytes ("
                                  << 100.0 * static_cast<double>(fetched) /
                                         static_cast<double>(layer->result.blob_size)
                                  << "%) in " << mount->fetcher().stats().requests << " requests; read-ahead "
                                  << mount->fetcher().stats().read_ahead_chunks << " chunks, "
                                  << mount->fetcher().stats().read_ahead_used << " used");
  CHECK(fetched > 0);
  // The manager's read-ahead ran, and python3's reads used some of what it brought.
  CHECK(mount->fetcher().stats().read_ahead_used > 0);
  // ~29% on demand alone with format defaults (2 MiB chunks, shared small-file frames); read-ahead
  // (whole small files, loader segments, a forward walk's neighbours) trades ~15 points for latency.
  CHECK(fetched * 2 < layer->result.blob_size);

  // The whole realistic tree, read through the registry-backed mount, equals the extracted tar.
  REQUIRE(testing::ExtractTar(layer->tar, env.dir / "expected").ok());
  auto diffs = testing::CompareTrees(env.dir / "expected", mnt);
  INFO(absl::StrJoin(diffs.begin(), diffs.begin() + std::min<size_t>(diffs.size(), 20), "\n"));
  CHECK(diffs.empty());
}

TEST_CASE("registry down: reads fail with EIO after the timeout, with a log line, and recover") {
  Env env;
  env.StartManager(env.Options(std::chrono::seconds(2)));
  auto layer = BuildBigLayer(env.dir.path());
  fs::path mnt = env.Mount(env.Push(layer), "down");
  std::string want = ReadFile(env.dir / "tree/big.bin");
  std::string buf(4096, '\0');
  REQUIRE(PRead(mnt / "big.bin", buf, 0).first == 4096);
  CHECK(buf == want.substr(0, 4096));

  auto capture = std::make_unique<log::ScopedCapture>();
  env.registry.Stop();
  auto start = std::chrono::steady_clock::now();
  auto [n, err] = PRead(mnt / "big.bin", buf, 6 << 20);
  auto waited = std::chrono::steady_clock::now() - start;
  const std::string logged = capture->Text();
  capture.reset();
  CHECK(n == -1);
  CHECK(err == EIO);
  CHECK(waited >= std::chrono::milliseconds(1500));
  // The kernel asks again for the page after its read-ahead request fails; that retry waits one
  // second for the registry, not a second read_timeout.
  CHECK(waited < std::chrono::milliseconds(3800));
  CHECK(env.manager->Find(mnt)->fs().repeated_reads() >= 1);
  INFO(logged);
  CHECK(logged.find("big.bin") != std::string::npos);
  CHECK(logged.find(layer.result.blob_digest.str()) != std::string::npos);

  REQUIRE(env.registry.Start().ok());
  auto [n2, err2] = PRead(mnt / "big.bin", buf, 6 << 20);
  CHECK(n2 == 4096);
  CHECK(buf == want.substr(6 << 20, 4096));
}

// The big layer, mounted through a fault proxy in front of the registry, its first page read.
struct ProxiedBigLayer {
  std::unique_ptr<tide::testing::FaultProxy> proxy;
  fs::path mnt;
  std::string want;  // big.bin's bytes
};
ProxiedBigLayer MountBigThroughProxy(Env& env, uint32_t seed, const std::string& name) {
  auto layer = BuildBigLayer(env.dir.path());
  RemoteLayer remote = env.Push(layer);
  auto proxy = tide::testing::FaultProxy::Start(env.registry.port(), seed);
  REQUIRE(proxy.ok());
  remote.reference = (*proxy)->host() + "/tide/test";
  fs::path mnt = env.Mount(remote, name);
  std::string buf(4096, '\0');
  REQUIRE(PRead(mnt / "big.bin", buf, 0).first == 4096);
  return {std::move(*proxy), mnt, ReadFile(env.dir / "tree/big.bin")};
}

TEST_CASE("a registry that trickles bytes: a read gets EIO at read_timeout, not when the transfer ends") {
  Env env;
  env.StartManager(env.Options(std::chrono::seconds(2)));
  auto [proxy, mnt, want] = MountBigThroughProxy(env, 1204, "trickle");
  std::string buf(4096, '\0');

  // 5 B/s: above curl's low-speed limit, so only a deadline on the whole request ends it.
  proxy->SetTrickle(true);
  auto start = std::chrono::steady_clock::now();
  auto [n, err] = PRead(mnt / "big.bin", buf, 6 << 20);
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(n == -1);
  CHECK(err == EIO);
  CHECK(waited >= std::chrono::milliseconds(1500));
  CHECK(waited < std::chrono::seconds(8));

  proxy->SetTrickle(false);
  auto [n2, err2] = PRead(mnt / "big.bin", buf, 6 << 20);
  CHECK(n2 == 4096);
  CHECK(buf == want.substr(6 << 20, 4096));
}

TEST_CASE("a connection that stops answering: the read retries on a fresh one before read_timeout") {
  Env env;
  env.StartManager(env.Options(std::chrono::seconds(3)));
  auto [proxy, mnt, want] = MountBigThroughProxy(env, 1205, "stall");
  std::string buf(4096, '\0');

  // The kept-alive connections are cut, and the next one accepts the request and never answers.
  proxy->SetConnectionLifetime(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  proxy->SetConnectionLifetime(std::chrono::milliseconds(0));
  proxy->FailNextConnections({tide::testing::Fault::kStall});
  auto start = std::chrono::steady_clock::now();
  auto [n, err] = PRead(mnt / "big.bin", buf, 6 << 20);
  auto waited = std::chrono::steady_clock::now() - start;
  INFO("errno " << err << ", waited " << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()
                << " ms");
  CHECK(proxy->counts().stalls == 1);
  CHECK(n == 4096);
  CHECK(buf == want.substr(6 << 20, 4096));
  // A second of silence (a third of read_timeout) ends the stalled attempt.
  CHECK(waited < std::chrono::milliseconds(2900));
}

TEST_CASE("registry down under many readers: no read() waits behind other readers' failing requests") {
  Env env;
  env.StartManager(env.Options(std::chrono::seconds(2)));
  auto layer = BuildBigLayer(env.dir.path());
  fs::path mnt = env.Mount(env.Push(layer), "crowd");
  std::string first(4096, '\0');
  REQUIRE(PRead(mnt / "big.bin", first, 0).first == 4096);

  env.registry.Stop();
  // Far more readers than the kernel lets a FUSE connection have background (read-ahead) requests
  // by default (12). Each reads 128 KiB of its own uncached range; the ranges do not overlap.
  constexpr int kReaders = 40;
  constexpr off_t kStride = 192 << 10;
  std::vector<std::chrono::milliseconds> waited(kReaders);
  std::vector<int> errors(kReaders);
  std::vector<std::thread> readers;
  readers.reserve(kReaders);
  for (int i = 0; i < kReaders; ++i) {
    readers.emplace_back([&, i] {
      std::string buf(128 << 10, '\0');
      const auto start = std::chrono::steady_clock::now();
      errors[i] = PRead(mnt / "big.bin", buf, (256 << 10) + i * kStride).second;
      waited[i] =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    });
  }
  for (std::thread& t : readers) t.join();
  for (int i = 0; i < kReaders; ++i) {
    INFO("reader " << i << " waited " << waited[i].count() << " ms");
    CHECK(errors[i] == EIO);
    // read_timeout (2 s), the kernel's retry of the failed read-ahead page (1 s), and slack for a
    // loaded 2-core machine. A read queued behind the others' requests waited 2 s per round of 12.
    CHECK(waited[i] < std::chrono::milliseconds(5500));
  }

  REQUIRE(env.registry.Start().ok());
  std::string buf(4096, '\0');
  std::string want = ReadFile(env.dir / "tree/big.bin");
  CHECK(PRead(mnt / "big.bin", buf, 6 << 20).first == 4096);
  CHECK(buf == want.substr(6 << 20, 4096));
}

// The value of the sample `series` (name and labels exactly as written) in `text`, or -1.
double MetricValue(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  at += series.size() + 2;
  return std::stod(text.substr(at, text.find('\n', at) - at));
}

TEST_CASE("metrics: reads move the layer's counters by what they fetched and found cached") {
  Env env;
  env.StartManager(env.Options());
  auto layer = BuildBigLayer(env.dir.path());
  RemoteLayer remote = env.Push(layer);
  fs::path mnt = env.Mount(remote, "metrics");
  const std::string name = env.manager->Find(mnt)->name();
  const std::string on_demand = "{layer=\"" + name + "\",kind=\"on_demand\"}";
  auto scrape = [&] {
    metrics::TextWriter out;
    WriteLayerMetrics(*env.manager, out);
    return out.text();
  };
  std::string before = scrape();
  CHECK(MetricValue(before, "tide_layer_mounts") == 1);
  CHECK(MetricValue(before, "tide_layer_fetch_bytes_total" + on_demand) == 0);

  std::string buf(4096, '\0');
  REQUIRE(PRead(mnt / "big.bin", buf, 3 << 20).first == 4096);
  std::string after = scrape();
  // One 256 KiB chunk (plus read-ahead at most) came from the registry for the read, on demand.
  const double fetched = MetricValue(after, "tide_layer_fetch_bytes_total" + on_demand);
  CHECK(fetched >= 200 << 10);
  CHECK(fetched == env.manager->Find(mnt)->fetcher().stats().blob_bytes.load());
  CHECK(MetricValue(after, "tide_layer_fetch_requests_total" + on_demand) >= 1);
  CHECK(MetricValue(after, "tide_layer_read_cache_misses_total{layer=\"" + name + "\"}") >= 1);
  CHECK(MetricValue(after, "tide_layer_chunks_cached{layer=\"" + name + "\"}") >= 1);
  CHECK(MetricValue(after, "tide_fuse_read_duration_seconds_count") >= 1);
  CHECK(MetricValue(after, "tide_fetch_duration_seconds_count") >= 1);
  CHECK(MetricValue(after, "tide_cache_bytes") >= 256 << 10);
  // The chunk the read was answered from is served; whatever came with it is only cached.
  const double cached = MetricValue(after, "tide_layer_cached_blob_bytes{layer=\"" + name + "\"}");
  const double served = MetricValue(after, "tide_layer_served_blob_bytes{layer=\"" + name + "\"}");
  CHECK(cached >= 200 << 10);
  CHECK(served >= 4096);
  CHECK(served <= cached);

  // The same bytes again, past the kernel's page cache: served from tide's cache, nothing fetched.
  {
    UniqueFd fd(::open((mnt / "big.bin").c_str(), O_RDONLY | O_CLOEXEC));
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
  }
  const double hits = MetricValue(after, "tide_layer_read_cache_hits_total{layer=\"" + name + "\"}");
  REQUIRE(PRead(mnt / "big.bin", buf, 3 << 20).first == 4096);
  std::string again = scrape();
  CHECK(MetricValue(again, "tide_layer_read_cache_hits_total{layer=\"" + name + "\"}") > hits);
  CHECK(MetricValue(again, "tide_layer_fetch_bytes_total" + on_demand) == fetched);
}

TEST_CASE("a registry serving a corrupted chunk gives EIO, never wrong bytes") {
  Env env;
  env.StartManager(env.Options(std::chrono::seconds(3)));
  auto layer = BuildBigLayer(env.dir.path());
  RemoteLayer remote = env.Push(layer);
  fs::path mnt = env.Mount(remote, "corrupt");
  LayerMount* mount = env.manager->Find(mnt);
  const format::LayerIndex& index = mount->index();
  format::EntryId big = index.LookupPath("big.bin");
  REQUIRE(big != format::kNoEntry);
  format::ChunkRange bad = index.ChunksFor(big, 5 << 20, 1);
  REQUIRE(bad.count == 1);
  const format::ChunkInfo& chunk = index.chunk(bad.first);
  FlipByteOf(chunk, env.registry.BlobDataPath(remote.layer_digest.hex()));
  std::string buf(4096, '\0');
  auto [n, err] = PRead(mnt / "big.bin", buf, 5 << 20);
  CHECK(n == -1);
  CHECK(err == EIO);
  CHECK_FALSE(mount->fetcher().IsCached(bad.first));
  std::string want = ReadFile(env.dir / "tree/big.bin");
  auto [n2, err2] = PRead(mnt / "big.bin", buf, 1 << 20);
  CHECK(n2 == 4096);
  CHECK(buf == want.substr(1 << 20, 4096));
}

TEST_CASE("a mirror serving corrupted bytes is caught by digest and the next host serves the read") {
  Env env;
  testing::RestartableRegistry mirror;
  REQUIRE(mirror.Start().ok());
  // The mirror comes first in hosts.toml, as a caching proxy or P2P agent would.
  WriteFile(env.dir / "hosts" / env.registry.host() / "hosts.toml",
            "[host.\"http://" + mirror.host() + "\"]\n  capabilities = [\"pull\"]\n");
  LayerMountManagerOptions options = env.Options(std::chrono::seconds(3));
  options.registry.hosts_dir = (env.dir / "hosts").string();
  env.StartManager(options);
  auto layer = BuildBigLayer(env.dir.path());
  RemoteLayer remote = env.Push(layer);
  // The mirror holds the same blob, with one chunk's bytes flipped behind its back.
  auto at_mirror = registry::Reference::Parse(mirror.host() + "/tide/test");
  REQUIRE(at_mirror.ok());
  REQUIRE(
      env.manager->registry().PushBlobFile(*at_mirror, layer.result.blob_digest, layer.blob.string()).ok());
  fs::path mnt = env.Mount(remote, "mirror");
  const format::LayerIndex& index = env.manager->Find(mnt)->index();
  format::EntryId big = index.LookupPath("big.bin");
  REQUIRE(big != format::kNoEntry);
  const format::ChunkInfo& chunk = index.chunk(index.ChunksFor(big, 5 << 20, 1).first);
  FlipByteOf(chunk, mirror.BlobDataPath(remote.layer_digest.hex()));
  const std::string want = ReadFile(env.dir / "tree/big.bin");
  std::string buf(4096, '\0');
  const auto began = std::chrono::steady_clock::now();
  auto [n, err] = PRead(mnt / "big.bin", buf, 5 << 20);
  INFO("errno " << err);
  REQUIRE(n == 4096);
  CHECK(buf == want.substr(5 << 20, 4096));
  // Served by the origin in the same read, not after read_timeout's retries against the mirror.
  CHECK(std::chrono::steady_clock::now() - began < std::chrono::seconds(2));
  // The whole file reads back right, whichever host each range came from.
  CHECK(ReadFile(mnt / "big.bin") == want);
  CHECK(env.manager->Find(mnt)->fetcher().stats().verify_failures.load() >= 1);
}

// How a mirror in front of the origin misbehaves in the test below.
enum class MirrorFault { kStall, kTrickle, kMidBodyClose, k500 };

TEST_CASE("a mirror that stalls, trickles, closes mid-body or answers 500: reads succeed from the origin") {
  Env env;
  env.StartManager(env.Options());
  auto layer = BuildBigLayer(env.dir.path());
  RemoteLayer remote = env.Push(layer);
  const std::string want = ReadFile(env.dir / "tree/big.bin");
  auto proxy = tide::testing::FaultProxy::Start(env.registry.port(), 1216);
  REQUIRE(proxy.ok());
  // The mirror is a pass-through to the origin until it is told to misbehave.
  WriteFile(env.dir / "hosts" / env.registry.host() / "hosts.toml",
            "[host.\"http://" + (*proxy)->host() + "\"]\n  capabilities = [\"pull\"]\n");
  int round = 0;
  for (MirrorFault fault :
       {MirrorFault::kStall, MirrorFault::kTrickle, MirrorFault::kMidBodyClose, MirrorFault::k500}) {
    INFO("fault " << static_cast<int>(fault));
    ++round;
    // A new daemon each round: an empty cache, and no memory of the mirror's earlier failures.
    env.manager.reset();
    (*proxy)->SetTrickle(false);
    (*proxy)->SetFaultRate(0);
    LayerMountManagerOptions options = env.Options(std::chrono::seconds(8));
    options.cache_dir = env.dir / ("cache-" + std::to_string(round));
    options.registry.hosts_dir = (env.dir / "hosts").string();
    options.registry.mirror_stall_time = std::chrono::seconds(1);
    env.StartManager(options);
    fs::path mnt = env.Mount(remote, "mirror-fault-" + std::to_string(round));
    std::string buf(4096, '\0');
    // A clean read first, so the fault also meets the pooled keep-alive connection to the mirror.
    REQUIRE(PRead(mnt / "small.txt", buf, 0).first == 6);
    const int connections_before = (*proxy)->counts().connections;
    switch (fault) {
      case MirrorFault::kStall:
        (*proxy)->SetFaultRate(1, {tide::testing::Fault::kStall});
        (*proxy)->SetConnectionLifetime(std::chrono::milliseconds(1));
        break;
      case MirrorFault::kTrickle:
        (*proxy)->SetTrickle(true);
        break;
      case MirrorFault::kMidBodyClose:
        (*proxy)->SetFaultRate(1, {tide::testing::Fault::kTruncate});
        (*proxy)->SetConnectionLifetime(std::chrono::milliseconds(1));
        break;
      case MirrorFault::k500:
        (*proxy)->SetFaultRate(1, {tide::testing::Fault::k503});
        (*proxy)->SetConnectionLifetime(std::chrono::milliseconds(1));
        break;
    }
    const auto began = std::chrono::steady_clock::now();
    auto [n, err] = PRead(mnt / "big.bin", buf, 5 << 20);
    const auto took = std::chrono::steady_clock::now() - began;
    INFO("errno " << err << " after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                  << " ms");
    REQUIRE(n == 4096);
    CHECK(buf == want.substr(5 << 20, 4096));
    // The mirror had its share (half of read_timeout at most), the origin the rest.
    CHECK(took < std::chrono::seconds(6));
    CHECK((*proxy)->counts().connections > connections_before - 1);
    // The mirror now cools down: the rest of the file comes from the origin without waiting on it.
    const auto rest_began = std::chrono::steady_clock::now();
    CHECK(ReadFile(mnt / "big.bin") == want);
    CHECK(std::chrono::steady_clock::now() - rest_began < std::chrono::seconds(4));
    (*proxy)->SetConnectionLifetime(std::chrono::milliseconds(0));
  }
  (*proxy)->SetTrickle(false);
  (*proxy)->SetFaultRate(0);
}

TEST_CASE("a restart with a warm cache mounts and serves everything without the registry") {
  Env env;
  auto options = env.Options(std::chrono::seconds(2));
  options.defaults.prefetch = fetch::PrefetchMode::kAll;
  env.StartManager(options);
  REQUIRE(RunCommand({testing::TestScript("make-edge-tree.sh").string(), (env.dir / "tree").string()})
              .exit_code == 0);
  auto layer = testing::BuildLayer(env.dir / "tree", env.dir.path(), "edge");
  REQUIRE(layer.ok());
  RemoteLayer remote = env.Push(*layer);
  fs::path mnt = env.Mount(remote, "warm");
  REQUIRE(env.manager->Find(mnt)->prefetcher() != nullptr);
  REQUIRE(env.manager->Find(mnt)->prefetcher()->WaitDone(std::chrono::seconds(60)));
  CHECK(env.manager->Find(mnt)->fetcher().stats().chunks_fetched == layer->result.chunk_count);
  env.manager.reset();  // unmounts
  struct statfs sfs {};
  REQUIRE(::statfs(mnt.c_str(), &sfs) == 0);
  CHECK(static_cast<unsigned long>(sfs.f_type) != kFuseMagic);

  env.registry.Stop();
  options.defaults.prefetch = fetch::PrefetchMode::kNone;
  env.StartManager(options);
  mnt = env.Mount(remote, "warm");
  REQUIRE(testing::ExtractTar(layer->tar, env.dir / "expected").ok());
  auto diffs = testing::CompareTrees(env.dir / "expected", mnt);
  INFO(absl::StrJoin(diffs.begin(), diffs.begin() + std::min<size_t>(diffs.size(), 20), "\n"));
  CHECK(diffs.empty());
  CHECK(env.manager->Find(mnt)->fetcher().stats().requests == 0);
}

TEST_CASE("unmount is clean while readers are blocked on an unreachable registry") {
  Env env;
  env.StartManager(env.Options(std::chrono::seconds(120)));
  auto layer = BuildBigLayer(env.dir.path());
  fs::path mnt = env.Mount(env.Push(layer), "blocked");
  env.registry.Stop();
  std::pair<ssize_t, int> result{0, 0};
  std::thread reader([&] {
    std::string buf(4096, '\0');
    result = PRead(mnt / "big.bin", buf, 3 << 20);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  auto start = std::chrono::steady_clock::now();
  CHECK(env.manager->Unmount(mnt).ok());
  reader.join();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  CHECK(result.first == -1);
  struct statfs sfs {};
  REQUIRE(::statfs(mnt.c_str(), &sfs) == 0);
  CHECK(static_cast<unsigned long>(sfs.f_type) != kFuseMagic);
}

TEST_CASE("an image's later indexes are fetched ahead into the cache, each only if it hashes to its digest") {
  Env env;
  env.StartManager(env.Options());
  auto ref = registry::Reference::Parse(env.registry.host() + "/tide/ahead:v1");
  REQUIRE(ref.ok());
  oci::Manifest manifest;
  manifest.media_type = std::string(oci::kOciManifest);
  const std::string config = "{}";
  REQUIRE(env.manager->registry().PushBlob(*ref, Digest::Of(config), config).ok());
  manifest.config = {std::string(oci::kOciConfig), Digest::Of(config), 2, {}, {}, {}, {}};
  std::vector<testing::BuiltLayer> layers;
  for (int i = 0; i < 3; ++i) {
    const fs::path base = env.dir / absl::StrCat("l", i);
    fs::create_directories(base / "tree");
    WriteFile(base / "tree" / absl::StrCat("file", i), std::string(1000 + i, 'x'));
    auto layer = testing::BuildLayer(base / "tree", base, absl::StrCat("l", i));
    REQUIRE(layer.ok());
    env.Push(*layer, "tide/ahead");
    oci::Descriptor d;
    d.media_type = std::string(oci::kOciLayerZstd);
    d.digest = layer->result.blob_digest;
    d.size = static_cast<int64_t>(layer->result.blob_size);
    d.annotations = layer->result.annotations;
    manifest.layers.push_back(d);
    layers.push_back(std::move(*layer));
  }
  // The last layer's descriptor claims an index digest its bytes do not hash to.
  const Digest claimed = Digest::Of("not the index");
  manifest.layers[2].annotations[std::string(format::kAnnotationIndexDigest)] = claimed.str();
  auto manifest_digest = env.manager->registry().PushManifest(*ref, manifest.Serialize(), oci::kOciManifest);
  REQUIRE(manifest_digest.ok());

  ImageManifests images(env.manager->registry());
  IndexPrefetcher prefetcher(env.manager->registry(), images, env.manager->cache());
  prefetcher.PrefetchImage(*ref, *manifest_digest,
                           {layers[1].result.blob_digest, layers[2].result.blob_digest});
  for (int i = 0; i < 200 && !prefetcher.idle(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(prefetcher.idle());
  CHECK(prefetcher.cached() == 1);
  CHECK_FALSE(env.manager->cache().Contains(layers[0].result.index_digest.bytes()));  // not asked for
  CHECK(env.manager->cache().Contains(layers[1].result.index_digest.bytes()));
  CHECK_FALSE(env.manager->cache().Contains(claimed.bytes()));
  CHECK_FALSE(env.manager->cache().Contains(layers[2].result.index_digest.bytes()));

  // A second request for the same image queues nothing, and with its index cached layer 1 mounts
  // while the registry is down.
  prefetcher.PrefetchImage(*ref, *manifest_digest, {layers[1].result.blob_digest});
  CHECK(prefetcher.idle());
  env.registry.Stop();
  fs::path mnt = env.Mount(
      RemoteLayer{ref->String(), layers[1].result.blob_digest, layers[1].index_location()}, "ahead");
  CHECK(fs::file_size(mnt / "file1") == 1001);  // from the index; its content is not cached
  CHECK(env.manager->Unmount(mnt).ok());
}

TEST_CASE("tidectl mount serves a layer of an image until SIGTERM, then unmounts") {
  Env env;
  env.StartManager(env.Options());
  auto layer = BuildBigLayer(env.dir.path());
  RemoteLayer remote = env.Push(layer, "tide/image");
  auto ref = registry::Reference::Parse(env.registry.host() + "/tide/image:v1");
  REQUIRE(ref.ok());
  std::string config =
      absl::StrCat(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")",
                   layer.result.diff_id.str(), R"("]}})");
  Digest config_digest = Digest::Of(config);
  REQUIRE(env.manager->registry().PushBlob(*ref, config_digest, config).ok());
  oci::Manifest manifest;
  manifest.media_type = std::string(oci::kOciManifest);
  manifest.config = {
      std::string(oci::kOciConfig), config_digest, static_cast<int64_t>(config.size()), {}, {}, {}, {}};
  oci::Descriptor l;
  l.media_type = std::string(oci::kOciLayerZstd);
  l.digest = layer.result.blob_digest;
  l.size = static_cast<int64_t>(layer.result.blob_size);
  l.annotations = layer.result.annotations;
  manifest.layers.push_back(l);
  REQUIRE(env.manager->registry().PushManifest(*ref, manifest.Serialize(), oci::kOciManifest).ok());

  fs::path mnt = env.dir / "mnt-cli";
  fs::create_directories(mnt);
  const char* binary_dir = std::getenv("TIDE_BINARY_DIR");
  REQUIRE(binary_dir != nullptr);  // set by ctest
  fs::path driver = fs::path(binary_dir) / "test/integration/layer/tidectl_mount_driver";
  auto proc = tide::testing::Subprocess::Start(
      {driver.string(), "mount", "--plain-http", "--prefetch", "startup", "--cache",
       (env.dir / "cli-cache").string(), ref->String(), layer.result.blob_digest.str(), mnt.string()},
      {.env = {}, .log_path = (env.dir / "cli.log").string(), .cwd = ""});
  REQUIRE(proc.ok());
  bool mounted = false;
  for (int i = 0; i < 200 && !mounted; ++i) {
    mounted = fs::exists(mnt / "small.txt");
    if (!mounted) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO(ReadFile(env.dir / "cli.log"));
  REQUIRE(mounted);
  CHECK(ReadFile(mnt / "small.txt") == "small\n");
  CHECK(ReadFile(mnt / "big.bin") == ReadFile(env.dir / "tree/big.bin"));
  int status = proc->Stop(SIGTERM, std::chrono::seconds(15));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  struct statfs sfs {};
  REQUIRE(::statfs(mnt.c_str(), &sfs) == 0);
  CHECK(static_cast<unsigned long>(sfs.f_type) != kFuseMagic);
  CHECK(ReadFile(env.dir / "cli.log").find("unmounted") != std::string::npos);

  // A killed daemon leaves a dead mount behind; Restore replaces it with a working one.
  auto killed = tide::testing::Subprocess::Start(
      {driver.string(), "mount", "--plain-http", "--prefetch", "none", "--cache",
       (env.dir / "cli-cache").string(), ref->String(), layer.result.blob_digest.str(), mnt.string()},
      {.env = {}, .log_path = (env.dir / "cli2.log").string(), .cwd = ""});
  REQUIRE(killed.ok());
  mounted = false;
  for (int i = 0; i < 200 && !mounted; ++i) {
    mounted = fs::exists(mnt / "small.txt");
    if (!mounted) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(mounted);
  killed->Stop(SIGKILL);
  CHECK(::statfs(mnt.c_str(), &sfs) == -1);  // attributes may still be cached; statfs asks the daemon
  CHECK(errno == ENOTCONN);
  CHECK(env.manager->Restore(remote, mnt).ok());
  CHECK(ReadFile(mnt / "small.txt") == "small\n");
  CHECK(env.manager->Unmount(mnt).ok());
  REQUIRE(::statfs(mnt.c_str(), &sfs) == 0);
  CHECK(static_cast<unsigned long>(sfs.f_type) != kFuseMagic);
}

}  // namespace
}  // namespace tide::layer
