// Learned prefetch: the snapshotter's ProfileKeeper records a first run's reads of a layer without a
// startup set; a later cold mount (empty chunk cache) fetches those chunks up front in a few
// large requests, so the workload's reads then need no fetch.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "fetch/blob_source.h"
#include "layer/layer_mount_manager.h"
#include "oci/manifest.h"
#include "oci/oci_layout.h"
#include "profile/startup_profile.h"
#include "snapshotter/profile_keeper.h"
#include "test/support/root_only.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

using namespace tide;
using namespace tide::testing;

namespace {

// Counts the ranged reads the fuse layer makes of the blob (what a registry would serve).
class CountingBlob : public fetch::BlobSource {
 public:
  explicit CountingBlob(std::shared_ptr<fetch::BlobSource> inner) : inner_(std::move(inner)) {}
  absl::StatusOr<std::string> ReadAt(uint64_t offset, uint64_t length) override {
    ++reads;
    return inner_->ReadAt(offset, length);
  }
  std::string Describe() const override { return inner_->Describe(); }
  std::atomic<int> reads{0};

 private:
  std::shared_ptr<fetch::BlobSource> inner_;
};

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The test app image converted with small chunks and no startup set (reading /app/a on demand
// takes several requests): its layout and its app layer.
struct AppLayer {
  std::optional<oci::OciLayout> layout;
  oci::Descriptor app;
};

AppLayer ConvertAppImage(const std::filesystem::path& tmp) {
  auto built = RunCommand(
      {std::string(std::getenv("TIDE_SOURCE_DIR")) + "/test/integration/profile/build-app-image.sh",
       (tmp / "src").string(), "v1"});
  REQUIRE(built.exit_code == 0);
  auto conv = RunCommand({std::string(std::getenv("TIDE_BINARY_DIR")) + "/tidectl/tidectl", "convert", "-q",
                          "--chunk-size", "64K", "oci:" + (tmp / "src").string() + ":v1",
                          "oci:" + (tmp / "tide").string() + ":v1"});
  INFO(conv.output);
  REQUIRE(conv.exit_code == 0);
  auto layout = oci::OciLayout::Open(tmp / "tide");
  REQUIRE(layout.ok());
  auto manifest = oci::Manifest::Parse(*layout->ReadBlob(layout->Resolve("v1")->digest));
  REQUIRE(manifest.ok());
  return AppLayer{std::move(*layout), manifest->layers.back()};
}

}  // namespace

TEST_CASE("a kept profile makes a cold mount prefetch the startup reads up front", "[profile][learned]") {
  SkipUnlessRootWithFuse();
  TempDir tmp("tide-learned");
  AppLayer image = ConvertAppImage(tmp.path());
  const oci::OciLayout* layout = &*image.layout;
  const oci::Descriptor& app = image.app;
  auto where = layer::IndexLocationFromAnnotations(app.annotations, static_cast<uint64_t>(app.size));
  REQUIRE(where.ok());
  const std::filesystem::path mp = tmp / "mnt";
  std::filesystem::create_directories(mp);
  const std::filesystem::path profiles = tmp / "profiles";

  auto mount = [&](const std::string& cache, bool learned, std::shared_ptr<CountingBlob>& blob,
                   std::unique_ptr<layer::LayerMountManager>& manager,
                   snapshotter::ProfileKeeper*& keeper_out,
                   std::unique_ptr<snapshotter::ProfileKeeper>& keeper) {
    layer::LayerMountManagerOptions mopts;
    mopts.cache_dir = tmp / cache;
    auto m = layer::LayerMountManager::Create(mopts);
    REQUIRE(m.ok());
    manager = std::move(*m);
    snapshotter::ProfileKeeperOptions kopts;
    kopts.idle = std::chrono::milliseconds(500);
    keeper = std::make_unique<snapshotter::ProfileKeeper>(*manager, profiles, kopts);
    keeper_out = keeper.get();
    auto file = fetch::FileBlobSource::Open(layout->BlobPath(app.digest));
    REQUIRE(file.ok());
    blob = std::make_shared<CountingBlob>(std::shared_ptr<fetch::BlobSource>(std::move(*file)));
    layer::LayerMountOptions lopts;
    lopts.prefetch = fetch::PrefetchMode::kStartup;
    lopts.record_access = !learned;
    if (learned) {
      auto* k = keeper.get();
      Digest digest = app.digest;
      lopts.learned_startup = [k, digest](const format::LayerIndex& index) {
        return k->LearnedChunks(digest, index);
      };
    }
    REQUIRE(manager->MountBlob(app.digest.str(), blob, *where, mp, lopts).ok());
    if (!learned) keeper->Watch(mp, app.digest);
  };

  // First run: no profile, reads are recorded and kept once idle.
  {
    std::shared_ptr<CountingBlob> blob;
    std::unique_ptr<layer::LayerMountManager> manager;
    std::unique_ptr<snapshotter::ProfileKeeper> keeper;
    snapshotter::ProfileKeeper* k = nullptr;
    mount("cache1", false, blob, manager, k, keeper);
    CHECK(ReadAll(mp / "app/a").size() == 700000);
    CHECK(ReadAll(mp / "app/c").size() == 700000);
    const int on_demand = blob->reads.load();
    INFO("first run: " << on_demand << " blob reads");
    CHECK(on_demand > 3);  // chunk by chunk: what learned prefetch must avoid
    for (int i = 0; i < 100 && !k->Has(app.digest); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    REQUIRE(k->Has(app.digest));
    // The read order is kept with the profile, so learned chunks carry ranks across layers.
    auto learned = k->LearnedChunks(app.digest, manager->Find(mp)->index());
    CHECK(!learned.chunks.empty());
    CHECK(learned.ranks.size() == learned.chunks.size());
    CHECK(std::is_sorted(learned.ranks.begin(), learned.ranks.end()));
    keeper->Forget(mp);
    REQUIRE(manager->Unmount(mp).ok());
  }
  // Second run on a "new node": empty cache, kept profile.
  {
    std::shared_ptr<CountingBlob> blob;
    std::unique_ptr<layer::LayerMountManager> manager;
    std::unique_ptr<snapshotter::ProfileKeeper> keeper;
    snapshotter::ProfileKeeper* k = nullptr;
    mount("cache2", true, blob, manager, k, keeper);
    layer::LayerMount* m = manager->Find(mp);
    REQUIRE(m != nullptr);
    REQUIRE(m->prefetcher() != nullptr);
    REQUIRE(m->prefetcher()->WaitDone(std::chrono::seconds(30)));
    const int prefetch_reads = blob->reads.load();
    INFO("prefetch: " << prefetch_reads << " blob reads (index included)");
    CHECK(prefetch_reads <= 1 + 3);
    CHECK(ReadAll(mp / "app/a").size() == 700000);
    CHECK(ReadAll(mp / "app/c").size() == 700000);
    CHECK(blob->reads.load() == prefetch_reads);  // everything the workload read was already there
    REQUIRE(manager->Unmount(mp).ok());
  }
}

TEST_CASE("a layer's learned profile goes on while the workload reads other layers", "[profile][learned]") {
  SkipUnlessRootWithFuse();
  TempDir tmp("tide-learned-pause");
  AppLayer image = ConvertAppImage(tmp.path());
  const oci::Descriptor& app = image.app;
  auto where = layer::IndexLocationFromAnnotations(app.annotations, static_cast<uint64_t>(app.size));
  REQUIRE(where.ok());
  layer::LayerMountManagerOptions mopts;
  mopts.cache_dir = tmp / "cache";
  auto manager = layer::LayerMountManager::Create(mopts);
  REQUIRE(manager.ok());
  snapshotter::ProfileKeeperOptions kopts;
  kopts.idle = std::chrono::milliseconds(500);
  snapshotter::ProfileKeeper keeper(**manager, tmp / "profiles", kopts);
  // The same blob mounted twice stands for two layers of one image: `paused` is read first and last,
  // `busy` in between, for longer than `idle`.
  const std::filesystem::path paused = tmp / "paused";
  const std::filesystem::path busy = tmp / "busy";
  const Digest paused_digest = Digest::Of("paused layer");
  const Digest busy_digest = Digest::Of("busy layer");
  for (const auto& [mp, digest] : {std::pair{paused, paused_digest}, std::pair{busy, busy_digest}}) {
    std::filesystem::create_directories(mp);
    auto file = fetch::FileBlobSource::Open(image.layout->BlobPath(app.digest));
    REQUIRE(file.ok());
    layer::LayerMountOptions lopts;
    lopts.record_access = true;
    REQUIRE((*manager)->MountBlob(digest.str(), std::move(*file), *where, mp, lopts).ok());
    keeper.Watch(mp, digest);
  }
  CHECK(ReadAll(paused / "app/a").size() == 700000);
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    // Past the page cache, so that each read reaches the filesystem.
    const int fd = ::open((busy / "app/c").c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    char page[4096];
    CHECK(::pread(fd, page, sizeof(page), static_cast<off_t>(i) * 65536) == sizeof(page));
    ::close(fd);
  }
  CHECK(ReadAll(paused / "app/c").size() == 700000);
  for (int i = 0; i < 100 && !(keeper.Has(paused_digest) && keeper.Has(busy_digest)); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(keeper.Has(paused_digest));
  auto kept = profile::ReadProfileFile(keeper.PathFor(paused_digest).string());
  REQUIRE(kept.ok());
  std::vector<std::string> paths;
  for (const auto& read : kept->reads) paths.push_back(read.path);
  INFO(absl::StrJoin(paths, " "));
  CHECK(std::find(paths.begin(), paths.end(), "app/a") != paths.end());
  CHECK(std::find(paths.begin(), paths.end(), "app/c") != paths.end());
  for (const auto& mp : {paused, busy}) {
    keeper.Forget(mp);
    REQUIRE((*manager)->Unmount(mp).ok());
  }
}
