// Real FUSE mounts of tide layers built from GNU tar archives, compared with the extracted tars.
#include "layer/layer_mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <iterator>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "format/elf_load_ranges.h"
#include "format/python_modules.h"
#include "test/integration/layer/layer_builder.h"
#include "test/integration/layer/tree_compare.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace tide::layer {
namespace {

namespace fs = std::filesystem;
using tide::testing::RunCommand;
using tide::testing::RunShell;
using tide::testing::TempDir;

// Mounts built layers from local blob files into a private dir, sharing one cache.
struct Env {
  TempDir dir{"tide-fuse-it"};
  std::shared_ptr<cache::ChunkCache> cache = std::move(*cache::ChunkCache::Open(dir / "cache", 8ull << 30));
  std::shared_ptr<fetch::FetchLimiter> limiter = std::make_shared<fetch::FetchLimiter>(fetch::FetchLimits{});
  std::shared_ptr<fetch::PrefetchQueue> queue =
      std::make_shared<fetch::PrefetchQueue>(limiter, fetch::FetchLimits{});

  std::unique_ptr<LayerMount> Mount(const testing::BuiltLayer& layer, const std::string& name,
                                    const LayerMountOptions& options = {}) {
    fs::path mnt = dir / ("mnt-" + name);
    fs::create_directories(mnt);
    std::shared_ptr<fetch::BlobSource> blob = std::move(*fetch::FileBlobSource::Open(layer.blob));
    auto index = LoadLayerIndex(*blob, layer.index_location(), cache.get());
    REQUIRE(index.ok());
    auto m = LayerMount::Create(name, blob, *index, cache, queue, mnt, options);
    INFO(m.status().message());
    REQUIRE(m.ok());
    return std::move(*m);
  }
};

std::string Diffs(const std::vector<std::string>& diffs) {
  return absl::StrJoin(diffs.begin(), diffs.begin() + std::min<size_t>(diffs.size(), 30), "\n");
}

TEST_CASE("the tree comparison notices every kind of difference it checks") {
  TempDir dir;
  REQUIRE(RunCommand({testing::TestScript("make-edge-tree.sh").string(), (dir / "a").string()}).exit_code ==
          0);
  REQUIRE(RunCommand({"cp", "-a", (dir / "a").string(), (dir / "b").string()}).exit_code == 0);
  REQUIRE(testing::CompareTrees(dir / "a", dir / "b").empty());
  fs::path b = dir / "b";
  REQUIRE(
      RunShell(absl::StrCat(
                   "cd ", b.string(),
                   " && chmod 0600 one-byte && printf y > dir/hello.txt.new && touch -r dir/hello.txt"
                   " dir/hello.txt.new && mv dir/hello.txt.new dir/hello.txt && setfattr -n user.tide.color"
                   " -v red xattr-file && touch -h -d '2002-01-01' abs-link && ln -sf other dir/rel-link"
                   " && rm dir/hard-b && cp dir/hard-a dir/hard-b && chown 1:1 owned && rm fifo"))
          .exit_code == 0);
  auto diffs = testing::CompareTrees(dir / "a", b);
  std::string all = absl::StrJoin(diffs, "\n");
  INFO(all);
  for (const char* expected :
       {"one-byte: mode", "dir/hello.txt: size", "xattr-file: xattrs", "abs-link: mtime",
        "dir/rel-link: link target", "dir/hard-b", "owned: uid", "missing: fifo"}) {
    CHECK(all.find(expected) != std::string::npos);
  }
}

TEST_CASE("a mounted layer is the extracted tar, entry for entry and byte for byte") {
  Env env;
  REQUIRE(RunCommand({testing::TestScript("make-edge-tree.sh").string(), (env.dir / "tree").string()})
              .exit_code == 0);
  format::LayerWriterOptions wo;
  wo.chunk_size = 256 << 10;  // several chunks per larger file
  auto layer = testing::BuildLayer(env.dir / "tree", env.dir.path(), "edge", wo);
  INFO(layer.status().message());
  REQUIRE(layer.ok());
  REQUIRE(testing::ExtractTar(layer->tar, env.dir / "expected").ok());
  LayerMountOptions options;
  options.prefetch = fetch::PrefetchMode::kNone;
  auto mount = env.Mount(*layer, "edge", options);
  fs::path mnt = mount->mountpoint();

  auto diffs = testing::CompareTrees(env.dir / "expected", mnt);
  INFO(Diffs(diffs));
  CHECK(diffs.empty());
  CHECK(testing::CountEntries(mnt) == testing::CountEntries(env.dir / "expected"));

  struct stat a {
  }, b{};
  REQUIRE(::lstat((mnt / "dir/hard-a").c_str(), &a) == 0);
  REQUIRE(::lstat((mnt / "sticky/hard-c").c_str(), &b) == 0);
  CHECK(a.st_ino == b.st_ino);
  CHECK(a.st_nlink == 3);
  char value[64];
  CHECK(::lgetxattr((mnt / "xattr-file").c_str(), "user.nope", value, sizeof(value)) == -1);
  CHECK(errno == ENODATA);
  CHECK(::open((mnt / "dir/hello.txt").c_str(), O_WRONLY) == -1);
  CHECK((errno == EROFS || errno == EACCES));
  struct statvfs vfs {};
  REQUIRE(::statvfs(mnt.c_str(), &vfs) == 0);
  CHECK(vfs.f_files >= testing::CountEntries(mnt));
  // Reads past the end, and at odd offsets across chunk boundaries.
  UniqueFd fd(::open((mnt / "dir/sub/multi-chunk.bin").c_str(), O_RDONLY));
  REQUIRE(fd.valid());
  std::string want = tide::testing::ReadFile(env.dir / "expected/dir/sub/multi-chunk.bin");
  std::string got(10000, '\0');
  REQUIRE(::pread(fd.get(), got.data(), got.size(), (256 << 10) - 5000) == 10000);
  CHECK(got == want.substr((256 << 10) - 5000, 10000));
  CHECK(::pread(fd.get(), got.data(), got.size(), static_cast<off_t>(want.size())) == 0);
}

TEST_CASE("stacked under overlayfs, layers with whiteouts and opaque dirs give containerd's merged tree") {
  Env env;
  fs::path l1 = env.dir / "l1", l2 = env.dir / "l2", l3 = env.dir / "l3";
  using tide::testing::WriteFile;
  WriteFile(l1 / "a/file1", "a1 from l1\n");
  WriteFile(l1 / "a/keep", "kept\n");
  WriteFile(l1 / "b/dir/x", "x\n");
  WriteFile(l1 / "c/old1", "old\n");
  WriteFile(l1 / "c/sub/old2", "old\n");
  WriteFile(l1 / "d/plain", "d\n");
  WriteFile(l2 / "a/.wh.file1", "");
  WriteFile(l2 / "c/.wh..wh..opq", "");
  WriteFile(l2 / "c/new", "new in l2\n");
  WriteFile(l2 / "e/fresh", "fresh\n");
  WriteFile(l3 / "a/file1", "a1 again from l3\n");
  WriteFile(l3 / ".wh.b", "");
  WriteFile(l3 / "d/.wh.plain", "");
  WriteFile(l3 / "d/added", "added\n");
  std::vector<testing::BuiltLayer> layers;
  std::vector<fs::path> tars;
  std::vector<std::unique_ptr<LayerMount>> mounts;
  for (const auto& [tree, name] : {std::pair{l1, "l1"}, {l2, "l2"}, {l3, "l3"}}) {
    auto layer = testing::BuildLayer(tree, env.dir.path(), name);
    REQUIRE(layer.ok());
    tars.push_back(layer->tar);
    mounts.push_back(env.Mount(*layer, name));
  }
  // The lower layer view itself: whiteouts are 0/0 char devices, opaque dirs carry the xattr.
  struct stat st {};
  REQUIRE(::lstat((mounts[1]->mountpoint() / "a/file1").c_str(), &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  CHECK(st.st_rdev == 0);
  CHECK(::lstat((mounts[1]->mountpoint() / "a/.wh.file1").c_str(), &st) == -1);
  CHECK(::lstat((mounts[1]->mountpoint() / "c/.wh..wh..opq").c_str(), &st) == -1);
  char value[8] = {};
  CHECK(::lgetxattr((mounts[1]->mountpoint() / "c").c_str(), "trusted.overlay.opaque", value,
                    sizeof(value)) == 1);
  CHECK(value[0] == 'y');

  REQUIRE(testing::ApplyLayers(tars, env.dir / "expected").ok());
  fs::path merged = env.dir / "merged";
  fs::create_directories(merged);
  std::string lower = absl::StrCat(mounts[2]->mountpoint().string(), ":", mounts[1]->mountpoint().string(),
                                   ":", mounts[0]->mountpoint().string());
  fs::create_directories(env.dir / "upper");
  fs::create_directories(env.dir / "work");
  std::string opts = absl::StrCat("lowerdir=", lower, ",upperdir=", (env.dir / "upper").string(),
                                  ",workdir=", (env.dir / "work").string());
  REQUIRE(::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) == 0);
  testing::CompareOptions co;
  co.inode_links = false;  // overlayfs renumbers inodes of lower layers on different filesystems
  auto diffs = testing::CompareTrees(env.dir / "expected", merged, co);
  ::umount2(merged.c_str(), MNT_DETACH);
  INFO(Diffs(diffs));
  CHECK(diffs.empty());
  CHECK(fs::exists(env.dir / "expected/c/new"));
  CHECK_FALSE(fs::exists(env.dir / "expected/c/old1"));
  CHECK_FALSE(fs::exists(env.dir / "expected/b"));
}

TEST_CASE("many threads reading random ranges get correct data with each chunk fetched once") {
  Env env;
  fs::path tree = env.dir / "tree";
  fs::create_directories(tree);
  for (int i = 0; i < 4; ++i) {
    REQUIRE(RunCommand({"sh", "-c",
                        absl::StrCat("head -c ", 3000000 + i * 777777, " /dev/urandom > ",
                                     (tree / absl::StrCat("f", i)).string())})
                .exit_code == 0);
  }
  format::LayerWriterOptions wo;
  wo.chunk_size = 128 << 10;
  auto layer = testing::BuildLayer(tree, env.dir.path(), "rand", wo);
  REQUIRE(layer.ok());
  LayerMountOptions options;
  options.prefetch = fetch::PrefetchMode::kNone;
  options.kernel.keep_cache = false;  // make every read reach the filesystem
  auto mount = env.Mount(*layer, "rand", options);
  std::vector<std::string> want;
  want.reserve(4);
  for (int i = 0; i < 4; ++i) want.push_back(tide::testing::ReadFile(tree / absl::StrCat("f", i)));
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  threads.reserve(16);
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      for (int k = 0; k < 60; ++k) {
        int f = static_cast<int>(rng() % 4);
        UniqueFd fd(::open((mount->mountpoint() / absl::StrCat("f", f)).c_str(), O_RDONLY | O_DIRECT));
        if (!fd.valid())
          fd = UniqueFd(::open((mount->mountpoint() / absl::StrCat("f", f)).c_str(), O_RDONLY));
        uint64_t off = rng() % want[f].size(), len = 1 + rng() % (600 << 10);
        std::string buf(len, '\0');
        ssize_t n = ::pread(fd.get(), buf.data(), len, static_cast<off_t>(off));
        size_t expect = std::min<uint64_t>(len, want[f].size() - off);
        if (n < 0 || static_cast<size_t>(n) > expect ||
            buf.compare(0, static_cast<size_t>(n), want[f], off, static_cast<size_t>(n)) != 0) {
          bad++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(bad == 0);
  const fetch::FetcherStats& s = mount->fetcher().stats();
  uint64_t cached = 0;
  for (uint32_t i = 0; i < mount->fetcher().chunk_count(); ++i)
    cached += mount->fetcher().IsCached(i) ? 1 : 0;
  CHECK(s.chunks_fetched == cached);
  CHECK(s.chunks_fetched > 0);
  CHECK(s.requests < s.chunks_fetched);  // merging happened
}

// Four 3 MB files in 512 KiB chunks; the startup set is d then b.
testing::BuiltLayer BuildStartupLayer(Env& env, const std::string& name) {
  fs::path tree = env.dir / ("tree-" + name);
  fs::create_directories(tree);
  for (const char* file : {"a-cold.bin", "b-startup.bin", "c-cold.bin", "d-startup.bin"}) {
    REQUIRE(RunCommand({"sh", "-c", absl::StrCat("head -c 3000000 /dev/urandom > ", (tree / file).string())})
                .exit_code == 0);
  }
  format::LayerWriterOptions wo;
  wo.chunk_size = 512 << 10;
  wo.startup = {{"d-startup.bin", {}}, {"b-startup.bin", {}}};
  auto layer = testing::BuildLayer(tree, env.dir.path(), name, wo);
  REQUIRE(layer.ok());
  REQUIRE(layer->result.startup_chunk_count > 0);
  return *layer;
}

uint64_t RecordedBytes(LayerMount& mount, std::string_view file) {
  uint64_t n = 0;
  for (const auto& r : mount.recorder()->Snapshot()) {
    if (mount.index().path(r.entry_id) == file) n += r.length;
  }
  return n;
}

TEST_CASE("startup prefetch brings in the startup files first; access recording keeps read order") {
  Env env;
  testing::BuiltLayer layer = BuildStartupLayer(env, "startup");
  const fs::path tree = env.dir / "tree-startup";
  LayerMountOptions options;
  options.prefetch = fetch::PrefetchMode::kStartup;
  options.record_access = true;
  auto mount = env.Mount(layer, "startup", options);
  REQUIRE(mount->prefetcher() != nullptr);
  REQUIRE(mount->prefetcher()->WaitDone(std::chrono::seconds(60)));
  const format::LayerIndex& index = mount->index();
  auto all_cached = [&](const char* name) {
    format::EntryId id = index.LookupPath(name);
    REQUIRE(id != format::kNoEntry);
    const format::EntryAttr& a = index.attr(id);
    bool all = true;
    for (uint32_t c = a.first_chunk; c < a.first_chunk + a.chunk_count; ++c)
      all = all && mount->fetcher().IsCached(c);
    return all;
  };
  CHECK(all_cached("b-startup.bin"));
  CHECK(all_cached("d-startup.bin"));
  CHECK_FALSE(all_cached("a-cold.bin"));
  CHECK_FALSE(all_cached("c-cold.bin"));
  const uint64_t requests = mount->fetcher().stats().requests;
  CHECK(requests <= 3);  // large sequential ranges, not a request per chunk
  CHECK(tide::testing::ReadFile(mount->mountpoint() / "d-startup.bin") ==
        tide::testing::ReadFile(tree / "d-startup.bin"));
  CHECK(mount->fetcher().stats().requests == requests);  // served from the cache

  CHECK(tide::testing::ReadFile(mount->mountpoint() / "c-cold.bin").size() == 3000000);
  auto records = mount->recorder()->Snapshot();
  REQUIRE(records.size() >= 2);
  CHECK(index.path(records.front().entry_id) == "d-startup.bin");
  CHECK(index.path(records.back().entry_id) == "c-cold.bin");
  CHECK(RecordedBytes(*mount, "c-cold.bin") == 3000000);
}

// Mounts `layer` with its startup set already local (a first mount prefetched it) and the page-cache
// warmer on (`options` otherwise), and waits for the warmer to finish.
std::unique_ptr<LayerMount> MountWarmed(Env& env, const testing::BuiltLayer& layer, LayerMountOptions options,
                                        const std::string& name) {
  options.prefetch = fetch::PrefetchMode::kStartup;
  {
    LayerMountOptions first_options = options;
    first_options.record_access = false;
    auto first = env.Mount(layer, name + "-first", first_options);
    REQUIRE(first->prefetcher()->WaitDone(std::chrono::seconds(60)));
  }
  options.warm_page_cache = true;
  auto mount = env.Mount(layer, name, options);
  REQUIRE(mount->warmer() != nullptr);
  for (int i = 0; i < 600 && !mount->warmer()->done(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(mount->warmer()->done());
  return mount;
}

TEST_CASE(
    "a startup set already local at mount is read into the page cache, so the workload's reads of it stay in "
    "the kernel") {
  Env env;
  testing::BuiltLayer layer = BuildStartupLayer(env, "warm");
  LayerMountOptions options;
  options.record_access = true;
  auto mount = MountWarmed(env, layer, options, "warm");
  // Both startup files, whole: every page of them lies in startup chunks.
  CHECK(mount->warmer()->bytes() == 6000000);
  // Their directory was listed: listing it again and looking at every name stays in the kernel.
  const uint64_t listings = mount->fs().readdir_requests();
  CHECK(listings >= 1);
  size_t names = 0;
  for (const auto& e : fs::directory_iterator(mount->mountpoint())) names += e.is_regular_file() ? 1 : 0;
  CHECK(names == 4);
  CHECK(mount->fs().readdir_requests() == listings);

  // The warmer's own reads are not the workload's, and the workload's reads of the set never reach
  // the daemon; a file outside the set still does.
  CHECK(mount->recorder()->Snapshot().empty());
  CHECK(tide::testing::ReadFile(mount->mountpoint() / "b-startup.bin") ==
        tide::testing::ReadFile(env.dir / "tree-warm" / "b-startup.bin"));
  CHECK(tide::testing::ReadFile(mount->mountpoint() / "d-startup.bin") ==
        tide::testing::ReadFile(env.dir / "tree-warm" / "d-startup.bin"));
  CHECK(RecordedBytes(*mount, "b-startup.bin") == 0);
  CHECK(RecordedBytes(*mount, "d-startup.bin") == 0);
  CHECK(mount->fetcher().stats().requests == 0);
  CHECK(tide::testing::ReadFile(mount->mountpoint() / "c-cold.bin") ==
        tide::testing::ReadFile(env.dir / "tree-warm" / "c-cold.bin"));
  CHECK(RecordedBytes(*mount, "c-cold.bin") == 3000000);
}

TEST_CASE(
    "the page-cache warmer reads only what is local at mount: it neither fetches nor follows a cold "
    "prefetch") {
  Env env;
  testing::BuiltLayer layer = BuildStartupLayer(env, "cold");
  LayerMountOptions options;
  options.warm_page_cache = true;
  SECTION("nothing prefetched") {
    options.prefetch = fetch::PrefetchMode::kNone;
    auto mount = env.Mount(layer, "none", options);
    CHECK(mount->warmer() == nullptr);
    CHECK(mount->fetcher().stats().requests == 0);
  }
  SECTION("the startup set arriving after the mount") {
    options.prefetch = fetch::PrefetchMode::kStartup;
    options.record_access = true;
    auto mount = env.Mount(layer, "startup", options);
    CHECK(mount->warmer() == nullptr);
    REQUIRE(mount->prefetcher()->WaitDone(std::chrono::seconds(60)));
    CHECK(tide::testing::ReadFile(mount->mountpoint() / "d-startup.bin").size() == 3000000);
    CHECK(RecordedBytes(*mount, "d-startup.bin") == 3000000);
  }
}

TEST_CASE("the kernel stops sending OPEN after the first: a file opened many times costs one request") {
  Env env;
  testing::BuiltLayer layer = BuildStartupLayer(env, "open");
  auto mount = env.Mount(layer, "open");
  for (int i = 0; i < 20; ++i) {
    for (const char* file : {"a-cold.bin", "b-startup.bin", "c-cold.bin"}) {
      UniqueFd fd(::open((mount->mountpoint() / file).c_str(), O_RDONLY | O_CLOEXEC));
      REQUIRE(fd.valid());
      char byte = 0;
      REQUIRE(::pread(fd.get(), &byte, 1, i) == 1);
    }
  }
  CHECK(mount->fs().open_requests() <= 1);
  // Still read-only: the kernel refuses writes without asking.
  errno = 0;
  CHECK(::open((mount->mountpoint() / "a-cold.bin").c_str(), O_WRONLY | O_CLOEXEC) == -1);
  CHECK(errno == EROFS);
}

TEST_CASE(
    "a layer without xattrs answers one GETXATTR; the kernel answers the rest, and overlayfs stacks it") {
  Env env;
  testing::BuiltLayer layer = BuildStartupLayer(env, "noxattr");
  auto mount = env.Mount(layer, "noxattr");
  char value[64];
  for (int i = 0; i < 20; ++i) {
    for (const char* name : {"trusted.overlay.opaque", "security.capability", "user.comment"}) {
      errno = 0;
      CHECK(::getxattr((mount->mountpoint() / "a-cold.bin").c_str(), name, value, sizeof(value)) == -1);
      CHECK((errno == ENODATA || errno == EOPNOTSUPP));
      CHECK(::getxattr(mount->mountpoint().c_str(), name, value, sizeof(value)) == -1);
    }
  }
  CHECK(mount->fs().getxattr_requests() <= 1);
  // The merged view still works: overlayfs asks lower directories for its marks.
  const fs::path merged = env.dir / "merged";
  const fs::path upper = env.dir / "upper";
  const fs::path work = env.dir / "work";
  for (const fs::path& d : {merged, upper, work}) fs::create_directories(d);
  const std::string opts = absl::StrCat("lowerdir=", mount->mountpoint().string(),
                                        ",upperdir=", upper.string(), ",workdir=", work.string());
  REQUIRE(::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) == 0);
  CHECK(tide::testing::ReadFile(merged / "b-startup.bin") ==
        tide::testing::ReadFile(env.dir / "tree-noxattr" / "b-startup.bin"));
  // A copy-up of a lower file copies its (absent) xattrs.
  CHECK(::truncate((merged / "c-cold.bin").c_str(), 10) == 0);
  CHECK(fs::file_size(upper / "c-cold.bin") == 10);
  CHECK(::umount2(merged.c_str(), MNT_DETACH) == 0);
}

TEST_CASE("files larger than 4 GiB read correctly on both sides of the 4 GiB boundary") {
  Env env;
  fs::path tree = env.dir / "tree";
  fs::create_directories(tree);
  constexpr uint64_t kGiB = uint64_t{1} << 30;
  const uint64_t size = 4 * kGiB + (64 << 20) + 12345;
  {
    UniqueFd fd(::open((tree / "huge.bin").c_str(), O_WRONLY | O_CREAT, 0644));
    REQUIRE(fd.valid());
    REQUIRE(::ftruncate(fd.get(), static_cast<off_t>(size)) == 0);
    for (uint64_t off : {uint64_t{0}, (4 * kGiB) - 3000, size - 5000}) {
      std::string marker(5000, '\0');
      for (size_t i = 0; i < marker.size(); ++i) marker[i] = static_cast<char>('A' + (off / 7 + i) % 26);
      REQUIRE(::pwrite(fd.get(), marker.data(), marker.size(), static_cast<off_t>(off)) == 5000);
    }
  }
  format::LayerWriterOptions wo;
  wo.chunk_size = 8 << 20;
  auto layer = testing::BuildLayerStreaming(tree, env.dir.path(), "huge", wo);
  INFO(layer.status().message());
  REQUIRE(layer.ok());
  LayerMountOptions options;
  options.prefetch = fetch::PrefetchMode::kNone;
  auto mount = env.Mount(*layer, "huge", options);
  struct stat st {};
  REQUIRE(::stat((mount->mountpoint() / "huge.bin").c_str(), &st) == 0);
  CHECK(static_cast<uint64_t>(st.st_size) == size);
  UniqueFd want(::open((tree / "huge.bin").c_str(), O_RDONLY));
  UniqueFd got(::open((mount->mountpoint() / "huge.bin").c_str(), O_RDONLY));
  REQUIRE(got.valid());
  for (uint64_t off : {uint64_t{0}, (4 * kGiB) - 2500, (4 * kGiB) - 1, (4 * kGiB) + 1000, size - 6000}) {
    std::string a(6000, '\0'), b(6000, '\0');
    ssize_t na = ::pread(want.get(), a.data(), a.size(), static_cast<off_t>(off));
    ssize_t nb = ::pread(got.get(), b.data(), b.size(), static_cast<off_t>(off));
    INFO("offset " << off);
    CHECK(na == nb);
    CHECK(a == b);
  }
  CHECK(mount->fetcher().stats().blob_bytes < (64ull << 20));  // a few chunks, not the file
}

TEST_CASE("a fully fetched layer whose tar is not its index's diff_id is poisoned: reads fail") {
  Env env;
  fs::path tree = env.dir / "tree";
  fs::create_directories(tree);
  tide::testing::WriteFile(tree / "who", "content the index does not commit to\n");
  REQUIRE(
      RunCommand({"sh", "-c", absl::StrCat("head -c 3000000 /dev/urandom > ", (tree / "big.bin").string())})
          .exit_code == 0);
  auto honest = testing::BuildLayer(tree, env.dir.path(), "honest");
  REQUIRE(honest.ok());
  Sha256Bytes other{};
  other.fill(0x42);
  auto lying = testing::WithIndexDiffId(*honest, other, env.dir.path(), "lying");
  REQUIRE(lying.ok());

  // The honest layer verifies and keeps serving.
  LayerMountOptions all;
  all.prefetch = fetch::PrefetchMode::kAll;
  auto good = env.Mount(*honest, "honest", all);
  REQUIRE(good->prefetcher()->WaitDone(std::chrono::seconds(60)));
  // Before its whole content is in, the lying layer serves its (chunk-verified) bytes like any other.
  auto bad = env.Mount(*lying, "lying", LayerMountOptions{});
  CHECK(tide::testing::ReadFile(bad->mountpoint() / "who") == "content the index does not commit to\n");
  bad.reset();
  // Fully fetched (here from the cache the honest mount filled), it is found out and poisoned.
  bad = env.Mount(*lying, "lying", all);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!bad->poisoned() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(bad->poisoned());
  CHECK_FALSE(good->poisoned());
  std::string buf(16, '\0');
  UniqueFd fd(::open((bad->mountpoint() / "who").c_str(), O_RDONLY));
  REQUIRE(fd.valid());
  errno = 0;
  CHECK(::pread(fd.get(), buf.data(), buf.size(), 0) == -1);
  CHECK(errno == EIO);
  CHECK(tide::testing::ReadFile(good->mountpoint() / "who") == "content the index does not commit to\n");
}

std::string BdiReadahead(const fs::path& mountpoint) {
  struct stat st {};
  REQUIRE(::stat(mountpoint.c_str(), &st) == 0);
  std::string value = tide::testing::ReadFile(
      absl::StrCat("/sys/class/bdi/", major(st.st_dev), ":", minor(st.st_dev), "/read_ahead_kb"));
  while (!value.empty() && value.back() == '\n') value.pop_back();
  return value;
}

TEST_CASE("the kernel read-ahead window is the startup window until the workload has started") {
  Env env;
  fs::path tree = env.dir / "tree";
  tide::testing::WriteFile(tree / "a.txt", std::string(100000, 'a'));
  auto layer = testing::BuildLayer(tree, env.dir.path(), "window");
  REQUIRE(layer.ok());
  LayerMountOptions options;
  options.prefetch = fetch::PrefetchMode::kNone;
  options.kernel.startup_readahead_kb = 256;
  options.kernel.readahead_kb = 2048;
  auto mount = env.Mount(*layer, "window", options);
  CHECK(BdiReadahead(mount->mountpoint()) == "256");
  // No read yet: the container may start seconds after the pull. The window stays narrow.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(BdiReadahead(mount->mountpoint()) == "256");
  CHECK(tide::testing::ReadFile(mount->mountpoint() / "a.txt") == std::string(100000, 'a'));
  // Reads, then a second (rest_idle_delay) without any: the reads that follow get the wide window.
  std::string window;
  for (int i = 0; i < 100 && window != "2048"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    window = BdiReadahead(mount->mountpoint());
  }
  CHECK(window == "2048");
}

TEST_CASE("the page-cache warmer's reads are not the workload's start: the window stays narrow") {
  Env env;
  testing::BuiltLayer layer = BuildStartupLayer(env, "warm-window");
  LayerMountOptions options;
  options.kernel.startup_readahead_kb = 256;
  options.kernel.readahead_kb = 2048;
  auto mount = MountWarmed(env, layer, options, "warmed");
  REQUIRE(mount->warmer()->bytes() > 0);
  // Well past rest_idle_delay after the warmer's reads: no container has read anything yet.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(BdiReadahead(mount->mountpoint()) == "256");
}

// Reads one page with the kernel's read-ahead off, so whatever else arrives was tide's doing.
std::string ReadPage(const fs::path& path, off_t offset) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(fd.valid());
  REQUIRE(::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_RANDOM) == 0);
  std::string page(4096, '\0');
  REQUIRE(::pread(fd.get(), page.data(), page.size(), offset) == 4096);
  return page;
}

// Waits for read-ahead requests (which no reader waits for) to store the chunks they claimed.
bool AllCached(fetch::ChunkFetcher& fetcher, format::ChunkRange chunks) {
  for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(std::chrono::milliseconds(5))) {
    bool all = true;
    for (uint32_t c = chunks.first; c < chunks.first + chunks.count && all; ++c) all = fetcher.IsCached(c);
    if (all) return true;
  }
  return false;
}

// Mounts `tree` as a layer of `chunk_size` chunks, on demand only, with the kernel's read-ahead
// nearly off: what arrives beyond a read is tide's read-ahead. The caller holds the read-ahead
// workers (a fetcher only refers to them, as a manager's mounts do).
std::unique_ptr<LayerMount> MountForReadAhead(Env& env, const fs::path& tree, const std::string& name,
                                              uint64_t chunk_size, LayerMountOptions options) {
  format::LayerWriterOptions wo;
  wo.chunk_size = chunk_size;
  auto layer = testing::BuildLayer(tree, env.dir.path(), name, wo);
  REQUIRE(layer.ok());
  options.prefetch = fetch::PrefetchMode::kNone;
  options.kernel.readahead_kb = 4;
  options.kernel.startup_readahead_kb = 4;
  REQUIRE(options.read_ahead_workers != nullptr);
  return env.Mount(*layer, name, options);
}

// Each case mounts its own layer with its own two read-ahead workers: a worker still closing a
// finished request is not idle yet, and read-ahead that finds none idle is (by design) dropped.
TEST_CASE("read-ahead by content: a small file's first page brings the whole file") {
  Env env;
  fs::path tree = env.dir / "tree";
  std::string noise(1 << 20, '\0');
  std::mt19937 rng(7);
  for (char& c : noise) c = static_cast<char>(rng());
  tide::testing::WriteFile(tree / "small.bin", noise);
  LayerMountOptions options;
  options.fetcher.whole_file_bytes = 1 << 20;
  auto workers = std::make_shared<fetch::ReadAheadWorkers>(2);
  options.read_ahead_workers = workers;
  auto mount = MountForReadAhead(env, tree, "small", 128 << 10, options);
  const format::EntryId small = mount->index().LookupPath("small.bin");
  REQUIRE(small != format::kNoEntry);
  CHECK(ReadPage(mount->mountpoint() / "small.bin", 0) == noise.substr(0, 4096));
  CHECK(AllCached(mount->fetcher(), mount->index().ChunksFor(small, 0, noise.size())));
  CHECK(mount->fetcher().stats().read_ahead_chunks >= 7);  // 8 chunks of 128 KiB: one read, seven ahead
  // The chunks read ahead are cached but no container read was answered from them yet.
  const format::ChunkRange chunks = mount->index().ChunksFor(small, 0, noise.size());
  uint64_t file_blob_bytes = 0;
  for (uint32_t c = chunks.first; c < chunks.first + chunks.count; ++c) {
    file_blob_bytes += mount->fetcher().chunk(c).blob_length;
  }
  fetch::ChunkFetcher::CachedBytes bytes = mount->fetcher().cached_bytes();
  CHECK(bytes.cached >= file_blob_bytes);
  CHECK(bytes.served >= mount->fetcher().chunk(chunks.first).blob_length);
  CHECK(bytes.served < file_blob_bytes);
  CHECK(tide::testing::ReadFile(mount->mountpoint() / "small.bin") == noise);
  bytes = mount->fetcher().cached_bytes();
  CHECK(bytes.served >= file_blob_bytes);
  CHECK(bytes.served <= bytes.cached);
}

TEST_CASE("read-ahead by content: a shared library's head brings its loader segments, not its code") {
  Env env;
  fs::path tree = env.dir / "tree";
  fs::create_directories(tree / "lib");
  const fs::path libc = fs::canonical("/lib/x86_64-linux-gnu/libc.so.6");
  fs::copy_file(libc, tree / "lib/libc.so");
  LayerMountOptions options;
  options.fetcher.whole_file_bytes = 64 << 10;
  auto workers = std::make_shared<fetch::ReadAheadWorkers>(2);
  options.read_ahead_workers = workers;
  auto mount = MountForReadAhead(env, tree, "lib", 128 << 10, options);
  const format::LayerIndex& index = mount->index();
  fetch::ChunkFetcher& fetcher = mount->fetcher();
  const format::EntryId lib = index.LookupPath("lib/libc.so");
  REQUIRE(lib != format::kNoEntry);
  const std::string host_libc = tide::testing::ReadFile(libc);
  const auto segments =
      format::ElfLoadRanges(std::span<const char>(host_libc.data(), 4096), host_libc.size());
  REQUIRE(segments.size() == 2);  // libc: the tables segment and one writable segment
  const format::ChunkRange code = index.ChunksFor(lib, segments[0].offset + segments[0].length, 1);
  CHECK(ReadPage(mount->mountpoint() / "lib/libc.so", 0) == host_libc.substr(0, 4096));
  for (const format::FileRange& r : segments) {
    INFO("segment at " << r.offset << "+" << r.length);
    CHECK(AllCached(fetcher, index.ChunksFor(lib, r.offset, r.length)));
  }
  // Code between the segments is left to the reads that need it (unless it shares their chunks).
  const format::ChunkRange rw = index.ChunksFor(lib, segments[1].offset, segments[1].length);
  if (code.first + 1 < rw.first) CHECK_FALSE(fetcher.IsCached(code.first + 1));
  CHECK(ReadPage(mount->mountpoint() / "lib/libc.so", static_cast<off_t>(segments[1].offset & ~4095ull)) ==
        host_libc.substr(segments[1].offset & ~4095ull, 4096));
}

// libcurl and everything ldd says it loads, under their sonames (symlinks to the real files), in a
// merged-/usr tree as Debian has it. Returns the sonames of libcurl's closure.
std::vector<std::string> WriteLibcurlClosure(const fs::path& tree, const std::string& libdir) {
  fs::create_directories(tree / libdir);
  fs::create_directory_symlink("usr/lib", tree / "lib");
  auto ldd = RunCommand({"ldd", "/usr/lib/x86_64-linux-gnu/libcurl.so.4"});
  REQUIRE(ldd.exit_code == 0);
  std::vector<std::string> sonames;
  std::istringstream lines(ldd.output);
  for (std::string line; std::getline(lines, line);) {
    const size_t arrow = line.find(" => /");
    if (arrow == std::string::npos) continue;
    std::string soname = line.substr(0, arrow);
    soname.erase(0, soname.find_first_not_of(" \t"));
    fs::path host(std::string(line.substr(arrow + 4, line.find(" (") - arrow - 4)));
    fs::path real = fs::canonical(host);
    if (!fs::exists(tree / libdir / real.filename())) fs::copy_file(real, tree / libdir / real.filename());
    if (soname != real.filename().string()) fs::create_symlink(real.filename(), tree / libdir / soname);
    sonames.push_back(soname);
  }
  REQUIRE(sonames.size() >= 10);
  const fs::path curl = fs::canonical("/usr/lib/x86_64-linux-gnu/libcurl.so.4");
  fs::copy_file(curl, tree / libdir / curl.filename());
  fs::create_symlink(curl.filename(), tree / libdir / "libcurl.so.4");
  return sonames;
}

// Reads libcurl's head through the mount and checks that every library of its closure has its head
// in without the test reading it.
void CheckHeadsWalked(LayerMount& mount, const std::string& libdir, const std::vector<std::string>& sonames) {
  const format::LayerIndex& index = mount.index();
  ReadPage(mount.mountpoint() / libdir / "libcurl.so.4", 0);
  for (const std::string& soname : sonames) {
    INFO(soname);
    const format::EntryId id = index.Resolve(index.LookupPath(
        libdir + "/" + fs::canonical(fs::path("/usr/lib/x86_64-linux-gnu") / soname).filename().string()));
    REQUIRE(id != format::kNoEntry);
    CHECK(AllCached(mount.fetcher(), index.ChunksFor(id, 0, 4096)));
  }
}

// CheckHeadsWalked, then: the tree still reads back as it is.
void CheckLoaderWalk(LayerMount& mount, const std::string& libdir, const std::vector<std::string>& sonames) {
  CheckHeadsWalked(mount, libdir, sonames);
  for (const std::string& soname : sonames) {
    CHECK(tide::testing::ReadFile(mount.mountpoint() / libdir / soname) ==
          tide::testing::ReadFile(fs::path("/usr/lib/x86_64-linux-gnu") / soname));
  }
}

// Options for a loader walk on its own: no neighbour read-ahead, two read-ahead and two walker
// threads of the mount's own (held by the options, which outlive the mounts made with them).
LayerMountOptions LoaderWalkOptions() {
  LayerMountOptions options;
  options.fetcher.cluster_lookahead_bytes = 0;
  options.read_ahead_workers = std::make_shared<fetch::ReadAheadWorkers>(2);
  options.loader_walkers = std::make_shared<fetch::ReadAheadWorkers>(2);
  return options;
}

// The chunks of `lib` (host copy `host`) that hold its constructors and none of its head or loader
// segments: what only the walk's constructor step brings.
std::vector<uint32_t> ConstructorOnlyChunks(const format::LayerIndex& index, format::EntryId lib,
                                            const std::string& host) {
  const std::span<const char> head(host.data(), std::min<size_t>(host.size(), 4096));
  std::set<uint32_t> loader;
  auto add = [&](std::set<uint32_t>& to, uint64_t offset, uint64_t length) {
    const format::ChunkRange r = index.ChunksFor(lib, offset, length);
    for (uint32_t c = r.first; c < r.first + r.count; ++c) to.insert(c);
  };
  add(loader, 0, head.size());
  for (const format::FileRange& r : format::ElfLoadRanges(head, host.size())) add(loader, r.offset, r.length);
  const format::ElfLayout layout = format::ElfLayoutOf(head, host.size());
  if (layout.dynamic.length == 0) return {};
  const format::ElfDynamic dyn = format::ParseElfDynamic(
      std::span<const char>(host.data() + layout.dynamic.offset, layout.dynamic.length));
  uint64_t array_at = 0;
  if (!layout.OffsetOf(dyn.init_array_vaddr, &array_at)) return {};
  std::set<uint32_t> code;
  for (uint64_t offset :
       format::ElfInitCode(layout, dyn, std::span<const char>(host.data() + array_at, dyn.init_array_size))) {
    add(code, offset, 1);
  }
  std::vector<uint32_t> only;
  std::set_difference(code.begin(), code.end(), loader.begin(), loader.end(), std::back_inserter(only));
  return only;
}

TEST_CASE("loader read-ahead: a walked library's constructors arrive before the loader runs them") {
  Env env;
  fs::path tree = env.dir / "tree";
  const std::string libdir = "usr/lib/x86_64-linux-gnu";
  const std::vector<std::string> sonames = WriteLibcurlClosure(tree, libdir);
  LayerMountOptions options = LoaderWalkOptions();
  options.fetcher.whole_file_bytes = 0;  // read in parts: code is fetched only when asked for
  const bool constructors = GENERATE(true, false);
  options.fetcher.constructor_code = constructors;
  auto mount = MountForReadAhead(env, tree, "libs", 64 << 10, options);
  CheckHeadsWalked(*mount, libdir, sonames);
  if (!constructors) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const format::LayerIndex& index = mount->index();
  size_t checked = 0;
  for (const std::string& soname : sonames) {
    const fs::path host = fs::canonical(fs::path("/usr/lib/x86_64-linux-gnu") / soname);
    const format::EntryId lib = index.Resolve(index.LookupPath(libdir + "/" + host.filename().string()));
    for (uint32_t chunk : ConstructorOnlyChunks(index, lib, tide::testing::ReadFile(host))) {
      INFO(soname << " chunk " << chunk << (constructors ? " with" : " without") << " the constructor step");
      if (constructors) {
        CHECK(AllCached(mount->fetcher(), {.first = chunk, .count = 1}));
      } else {
        CHECK_FALSE(mount->fetcher().IsCached(chunk));
      }
      ++checked;
    }
  }
  // libcrypto's constructors lie past its first segment's last chunk (64 KiB chunks): the case has
  // something to tell apart.
  CHECK(checked >= 1);
}

TEST_CASE(
    "loader read-ahead: a library's head brings the libraries it needs, and theirs, before the loader asks") {
  Env env;
  fs::path tree = env.dir / "tree";
  const std::string libdir = "usr/lib/x86_64-linux-gnu";
  const std::vector<std::string> sonames = WriteLibcurlClosure(tree, libdir);
  LayerMountOptions options = LoaderWalkOptions();
  SECTION("a large library (read in parts)") {
    options.fetcher.whole_file_bytes = 0;
    auto mount = MountForReadAhead(env, tree, "libs", 64 << 10, options);
    CheckLoaderWalk(*mount, libdir, sonames);
  }
  SECTION("a small library (fetched whole at its first read): its needs are walked all the same") {
    // A Python extension module is such a library: the walk must not wait for it to be large.
    options.fetcher.whole_file_bytes = 4 << 20;
    REQUIRE(fs::file_size(fs::canonical("/usr/lib/x86_64-linux-gnu/libcurl.so.4")) <= (4u << 20));
    auto mount = MountForReadAhead(env, tree, "libs", 64 << 10, options);
    CheckLoaderWalk(*mount, libdir, sonames);
  }
}

// A package directory as pip or Debian leaves it: three extension modules (host libraries under
// CPython's names, one larger than the whole-file size), a plain shared library, data, and a
// subpackage with a module of its own. Reads the head of one module.
struct PackageMount {
  std::shared_ptr<fetch::ReadAheadWorkers> workers = std::make_shared<fetch::ReadAheadWorkers>(2);
  std::shared_ptr<fetch::ReadAheadWorkers> walkers = std::make_shared<fetch::ReadAheadWorkers>(2);
  std::unique_ptr<LayerMount> mount;  // after the workers: unmounted before they stop
};

constexpr std::string_view kExtensionSuffix = ".cpython-311-x86_64-linux-gnu.so";

PackageMount ReadOneExtensionModule(Env& env, bool siblings) {
  fs::path tree = env.dir / "tree";
  fs::create_directories(tree / "pkg/sub");
  const std::string ext(kExtensionSuffix);
  fs::copy_file(fs::canonical("/lib/x86_64-linux-gnu/libz.so.1"), tree / ("pkg/_a" + ext));
  fs::copy_file(fs::canonical("/lib/x86_64-linux-gnu/libnghttp2.so.14"), tree / ("pkg/_b" + ext));
  fs::copy_file(fs::canonical("/lib/x86_64-linux-gnu/libc.so.6"), tree / "pkg/_c.abi3.so");
  fs::copy_file(fs::canonical("/lib/x86_64-linux-gnu/libidn2.so.0"), tree / "pkg/helper.so");
  fs::copy_file(fs::canonical("/lib/x86_64-linux-gnu/libssl.so.3"), tree / ("pkg/sub/_d" + ext));
  std::string noise(512 << 10, '\0');
  std::mt19937 rng(5);
  for (char& c : noise) c = static_cast<char>(rng());
  tide::testing::WriteFile(tree / "pkg/data.bin", noise);
  LayerMountOptions options;
  options.fetcher.cluster_lookahead_bytes = 0;
  options.fetcher.whole_file_bytes = 1 << 20;
  options.fetcher.extension_siblings = siblings;
  PackageMount pkg;
  options.read_ahead_workers = pkg.workers;
  options.loader_walkers = pkg.walkers;
  pkg.mount = MountForReadAhead(env, tree, "pkg", 64 << 10, options);
  CHECK(ReadPage(pkg.mount->mountpoint() / ("pkg/_a" + ext), 0) ==
        tide::testing::ReadFile("/lib/x86_64-linux-gnu/libz.so.1").substr(0, 4096));
  return pkg;
}

// The chunks of `path` that hold none of its neighbours' bytes.
format::ChunkRange InnerChunks(const format::LayerIndex& index, const std::string& path) {
  const format::EntryId id = index.LookupPath(path);
  REQUIRE(id != format::kNoEntry);
  const format::ChunkRange all = index.ChunksFor(id, 0, index.attr(id).size);
  REQUIRE(all.count >= 3);
  return {.first = all.first + 1, .count = all.count - 2};
}

bool NoneCached(fetch::ChunkFetcher& fetcher, format::ChunkRange chunks) {
  for (uint32_t c = chunks.first; c < chunks.first + chunks.count; ++c) {
    if (fetcher.IsCached(c)) return false;
  }
  return true;
}

TEST_CASE("loader read-ahead: a library the layer lacks is walked in the layer under it, unless whited out") {
  Env env;
  const std::string libdir = "usr/lib/x86_64-linux-gnu";
  // The base holds libcurl's closure, the upper layer libcurl (and, in one section, a whiteout of
  // libnghttp2, which only libcurl needs).
  fs::path base_tree = env.dir / "base";
  std::vector<std::string> sonames = WriteLibcurlClosure(base_tree, libdir);
  const fs::path curl = fs::canonical("/usr/lib/x86_64-linux-gnu/libcurl.so.4");
  fs::remove(base_tree / libdir / "libcurl.so.4");
  fs::remove(base_tree / libdir / curl.filename());
  fs::path upper_tree = env.dir / "upper";
  fs::create_directories(upper_tree / libdir);
  fs::copy_file(curl, upper_tree / libdir / "libcurl.so.4");
  const bool whiteout = GENERATE(false, true);
  const std::string hidden = "libnghttp2.so.14";
  REQUIRE(std::find(sonames.begin(), sonames.end(), hidden) != sonames.end());
  if (whiteout) tide::testing::WriteFile(upper_tree / libdir / (".wh." + hidden), "");
  LayerMountOptions options = LoaderWalkOptions();
  options.fetcher.whole_file_bytes = 4 << 20;
  auto base = MountForReadAhead(env, base_tree, "base", 64 << 10, options);
  REQUIRE(base->fs().loader_walk() != nullptr);
  options.lower_loader_walks = {base->fs().loader_walk()};
  auto upper = MountForReadAhead(env, upper_tree, "upper", 64 << 10, options);
  ReadPage(upper->mountpoint() / libdir / "libcurl.so.4", 0);
  const format::LayerIndex& index = base->index();
  for (const std::string& soname : sonames) {
    if (soname == hidden && whiteout) continue;
    INFO(soname);
    const format::EntryId id = index.Resolve(index.LookupPath(
        libdir + "/" + fs::canonical(fs::path("/usr/lib/x86_64-linux-gnu") / soname).filename().string()));
    REQUIRE(id != format::kNoEntry);
    CHECK(AllCached(base->fetcher(), index.ChunksFor(id, 0, 4096)));
  }
  if (whiteout) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const std::string real =
        fs::canonical(fs::path("/usr/lib/x86_64-linux-gnu") / hidden).filename().string();
    CHECK(NoneCached(base->fetcher(), InnerChunks(index, libdir + "/" + real)));
  }
  // What the walk brought reads back as it is, through the layer that holds it.
  for (const std::string& soname : sonames) {
    CHECK(tide::testing::ReadFile(base->mountpoint() / libdir / soname) ==
          tide::testing::ReadFile(fs::path("/usr/lib/x86_64-linux-gnu") / soname));
  }
}

TEST_CASE("loader read-ahead: an extension module's head brings the other modules of its package") {
  Env env;
  const std::string ext(kExtensionSuffix);
  SECTION("with sibling read-ahead") {
    PackageMount pkg = ReadOneExtensionModule(env, true);
    LayerMount* mount = pkg.mount.get();
    const format::LayerIndex& index = mount->index();
    fetch::ChunkFetcher& fetcher = mount->fetcher();
    // The small sibling whole; the large one its head and the segments the loader reads.
    const format::EntryId b = index.LookupPath("pkg/_b" + ext);
    CHECK(AllCached(fetcher, index.ChunksFor(b, 0, index.attr(b).size)));
    const format::EntryId c = index.LookupPath("pkg/_c.abi3.so");
    const std::string libc = tide::testing::ReadFile(fs::canonical("/lib/x86_64-linux-gnu/libc.so.6"));
    for (const format::FileRange& r :
         format::ElfLoadRanges(std::span<const char>(libc.data(), 4096), libc.size())) {
      INFO("segment at " << r.offset << "+" << r.length);
      CHECK(AllCached(fetcher, index.ChunksFor(c, r.offset, r.length)));
    }
    // Neither the plain library, nor the data, nor the subpackage's module.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(NoneCached(fetcher, InnerChunks(index, "pkg/helper.so")));
    CHECK(NoneCached(fetcher, InnerChunks(index, "pkg/data.bin")));
    CHECK(NoneCached(fetcher, InnerChunks(index, "pkg/sub/_d" + ext)));
    // What arrived ahead reads back as it is.
    CHECK(tide::testing::ReadFile(mount->mountpoint() / ("pkg/_b" + ext)) ==
          tide::testing::ReadFile("/lib/x86_64-linux-gnu/libnghttp2.so.14"));
    CHECK(tide::testing::ReadFile(mount->mountpoint() / "pkg/_c.abi3.so") == libc);
  }
  SECTION("without it, the other modules stay where they are") {
    PackageMount pkg = ReadOneExtensionModule(env, false);
    LayerMount* mount = pkg.mount.get();
    const format::LayerIndex& index = mount->index();
    const format::EntryId a = index.LookupPath("pkg/_a" + ext);
    CHECK(AllCached(mount->fetcher(), index.ChunksFor(a, 0, index.attr(a).size)));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(NoneCached(mount->fetcher(), InnerChunks(index, "pkg/_b" + ext)));
  }
}

// A package as pip or Debian leaves it, compiled by the host's CPython: an __init__ that imports a
// module, a subpackage and an extension module (host libz under CPython's name) and leaves another
// module and data alone. The subpackage imports a module and a subpackage of its own, which imports
// a module in turn. Each module holds 256 KiB of random text, so that its inner chunks are its own.
// Returns the compiled __init__'s path in the tree.
std::string WriteImportingPackage(const fs::path& tree) {
  fs::create_directories(tree / "pkg/sub/deeper");
  std::mt19937 rng(7);
  auto module = [&](const fs::path& path, const std::string& imports = "") {
    std::string text(256 << 10, '\0');
    for (char& c : text) c = static_cast<char>('a' + rng() % 26);
    tide::testing::WriteFile(path, imports + "BLOB = '" + text + "'\n");
  };
  module(tree / "pkg/alpha.py");
  module(tree / "pkg/sub/__init__.py", "from . import deep\nfrom . import deeper\n");
  module(tree / "pkg/sub/deep.py");
  module(tree / "pkg/sub/deeper/__init__.py", "from . import far\n");
  module(tree / "pkg/sub/deeper/far.py");
  module(tree / "pkg/omega.py");
  fs::copy_file(fs::canonical("/lib/x86_64-linux-gnu/libz.so.1"),
                tree / ("pkg/_fast" + std::string(kExtensionSuffix)));
  fs::copy_file(fs::canonical("/lib/x86_64-linux-gnu/libz.so.1"),
                tree / ("pkg/_slow" + std::string(kExtensionSuffix)));
  tide::testing::WriteFile(tree / "pkg/__init__.py",
                           "from . import alpha\nfrom . import sub\nfrom ._fast import x\n");
  const auto compiled = RunCommand({"python3", "-m", "compileall", "-q", (tree / "pkg").string()});
  REQUIRE(compiled.exit_code == 0);
  for (const auto& entry : fs::directory_iterator(tree / "pkg/__pycache__")) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("__init__.")) return "pkg/__pycache__/" + name;
  }
  FAIL("python3 -m compileall wrote no compiled __init__");
  return {};
}

// Reads the head of a compiled module as the importer does (at most a page; a pyc is often smaller),
// past its 16-byte header at least.
std::string ReadPyc(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(fd.valid());
  std::string head(4096, '\0');
  const ssize_t n = ::pread(fd.get(), head.data(), head.size(), 0);
  REQUIRE(n > 16);
  head.resize(static_cast<size_t>(n));
  return head;
}

// The compiled module `module` of `dir` (e.g. "pkg", "alpha"), with the tag of `init`.
std::string CompiledModule(const std::string& init, const std::string& dir, const std::string& module) {
  const std::string file = fs::path(init).filename().string();
  std::string_view tag;
  REQUIRE(format::IsCompiledInit(file, &tag));
  return dir + "/__pycache__/" + module + "." + std::string(tag) + ".pyc";
}

TEST_CASE(
    "import read-ahead: a package's compiled __init__ brings the modules it names, and its subpackages' "
    "one level down, and only those") {
  Env env;
  fs::path tree = env.dir / "tree";
  const std::string init = WriteImportingPackage(tree);
  LayerMountOptions options;
  options.fetcher.cluster_lookahead_bytes = 0;
  options.fetcher.whole_file_bytes = 1 << 20;
  options.fetcher.loader_lookahead = false;  // the extension module's own walk stays out of it
  const bool imports = GENERATE(true, false);
  options.fetcher.import_names = imports;
  PackageMount pkg;
  options.read_ahead_workers = pkg.workers;
  options.loader_walkers = pkg.walkers;
  pkg.mount = MountForReadAhead(env, tree, "pkg", 64 << 10, options);
  LayerMount& mount = *pkg.mount;
  CHECK(ReadPyc(mount.mountpoint() / init) == tide::testing::ReadFile(tree / init).substr(0, 4096));
  const format::LayerIndex& index = mount.index();
  const std::vector<std::string> named = {
      CompiledModule(init, "pkg", "alpha"), CompiledModule(init, "pkg/sub", "__init__"),
      "pkg/_fast" + std::string(kExtensionSuffix),
      // The subpackage's, walked as soon as its __init__ arrived.
      CompiledModule(init, "pkg/sub", "deep"), CompiledModule(init, "pkg/sub/deeper", "__init__")};
  if (imports) {
    for (const std::string& path : named) {
      INFO(path);
      const format::EntryId id = index.LookupPath(path);
      REQUIRE(id != format::kNoEntry);
      CHECK(AllCached(mount.fetcher(), index.ChunksFor(id, 0, index.attr(id).size)));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  if (!imports) {
    for (const std::string& path : named) {
      INFO(path);
      if (path.ends_with(".pyc")) CHECK(NoneCached(mount.fetcher(), InnerChunks(index, path)));
    }
  }
  // A module and an extension module the __init__ does not name stay where they are, and so does
  // a module two subpackages down: that walk waits for the importer.
  CHECK(NoneCached(mount.fetcher(), InnerChunks(index, CompiledModule(init, "pkg", "omega"))));
  CHECK(NoneCached(mount.fetcher(), InnerChunks(index, CompiledModule(init, "pkg/sub/deeper", "far"))));
  const format::EntryId slow = index.LookupPath("pkg/_slow" + std::string(kExtensionSuffix));
  const format::EntryId fast = index.LookupPath("pkg/_fast" + std::string(kExtensionSuffix));
  const format::ChunkRange slow_chunks = index.ChunksFor(slow, 0, index.attr(slow).size);
  const format::ChunkRange fast_chunks = index.ChunksFor(fast, 0, index.attr(fast).size);
  REQUIRE(slow_chunks.count >= 2);
  REQUIRE(slow_chunks.first + 1 >= fast_chunks.first + fast_chunks.count);  // its own after the first
  CHECK(NoneCached(mount.fetcher(), {.first = slow_chunks.first + 1, .count = slow_chunks.count - 1}));
  // What arrived ahead reads back as it is.
  for (const std::string& path : named) {
    CHECK(tide::testing::ReadFile(mount.mountpoint() / path) == tide::testing::ReadFile(tree / path));
  }
}

TEST_CASE("import read-ahead: a package spread over two layers is found in both") {
  // As an image that compiles its modules in a layer of their own: the base holds the compiled
  // modules, the layer over it the sources and the extension modules.
  Env env;
  fs::path tree = env.dir / "tree";
  const std::string init = WriteImportingPackage(tree);
  fs::path base_tree = env.dir / "base";
  fs::path upper_tree = env.dir / "upper";
  for (const auto& entry : fs::recursive_directory_iterator(tree)) {
    if (!entry.is_regular_file()) continue;
    const fs::path rel = fs::relative(entry.path(), tree);
    const fs::path to = (rel.parent_path().filename() == "__pycache__" ? base_tree : upper_tree) / rel;
    fs::create_directories(to.parent_path());
    fs::copy_file(entry.path(), to);
  }
  LayerMountOptions options;
  options.fetcher.cluster_lookahead_bytes = 0;
  options.fetcher.whole_file_bytes = 1 << 20;
  PackageMount pkg;
  options.read_ahead_workers = pkg.workers;
  options.loader_walkers = pkg.walkers;
  auto base = MountForReadAhead(env, base_tree, "base", 64 << 10, options);
  REQUIRE(base->fs().loader_walk() != nullptr);
  options.lower_loader_walks = {base->fs().loader_walk()};
  pkg.mount = MountForReadAhead(env, upper_tree, "upper", 64 << 10, options);
  (void)ReadPyc(base->mountpoint() / init);
  // The extension module from the layer above, the compiled module from the base.
  const format::LayerIndex& upper = pkg.mount->index();
  const format::EntryId fast = upper.LookupPath("pkg/_fast" + std::string(kExtensionSuffix));
  REQUIRE(fast != format::kNoEntry);
  CHECK(AllCached(pkg.mount->fetcher(), upper.ChunksFor(fast, 0, upper.attr(fast).size)));
  const std::string alpha = CompiledModule(init, "pkg", "alpha");
  const format::EntryId alpha_id = base->index().LookupPath(alpha);
  REQUIRE(alpha_id != format::kNoEntry);
  CHECK(AllCached(base->fetcher(), base->index().ChunksFor(alpha_id, 0, base->index().attr(alpha_id).size)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(NoneCached(pkg.mount->fetcher(), InnerChunks(upper, "pkg/omega.py")));
  CHECK(tide::testing::ReadFile(pkg.mount->mountpoint() / ("pkg/_fast" + std::string(kExtensionSuffix))) ==
        tide::testing::ReadFile(tree / ("pkg/_fast" + std::string(kExtensionSuffix))));
}

// A file of 64 chunks of 64 KiB random bytes, mounted on demand with nothing but sequential
// read-ahead on; reading pages that skip ahead through it, as a library's static
// initializers fault in its code. Returns how many chunks read ahead the sweep's reads found.
uint64_t SparseSweepReadAheadUsed(uint64_t gap_bytes) {
  Env env;
  fs::path tree = env.dir / "tree";
  constexpr uint64_t kChunk = 64 << 10;
  constexpr uint64_t kStride = 100 << 10;  // one page read, then about a chunk and a half skipped
  std::string noise(64 * kChunk, '\0');
  std::mt19937 rng(11);
  for (char& c : noise) c = static_cast<char>(rng());
  tide::testing::WriteFile(tree / "lib.so", noise);
  LayerMountOptions options;
  options.fetcher.whole_file_bytes = 0;
  options.fetcher.cluster_lookahead_bytes = 0;
  options.fetcher.loader_lookahead = false;
  options.fetcher.first_lookahead_bytes = kChunk;
  options.fetcher.sequential_gap_bytes = gap_bytes;
  auto workers = std::make_shared<fetch::ReadAheadWorkers>(2);
  options.read_ahead_workers = workers;
  auto mount = MountForReadAhead(env, tree, "sweep", kChunk, options);
  int reads = 0;
  for (uint64_t offset = 0; offset + 4096 <= noise.size(); offset += kStride, ++reads) {
    INFO("page at " << offset);
    REQUIRE(ReadPage(mount->mountpoint() / "lib.so", static_cast<off_t>(offset)) ==
            noise.substr(offset, 4096));
  }
  REQUIRE(reads == 41);  // 41 pages in 41 different chunks
  return mount->fetcher().stats().read_ahead_used.load();
}

TEST_CASE("read-ahead follows a forward sweep that skips pages, and only with a gap allowed") {
  // Each read is in a chunk of its own: with no gap allowed, no read is seen to continue another,
  // so every read waits for its own round trip.
  CHECK(SparseSweepReadAheadUsed(0) == 0);
  // Allowed to skip up to 2 chunks, each read starts or widens a window ahead of it, and many of the
  // later reads find their chunk there (17 of 40 when this was written; windows race the reader).
  CHECK(SparseSweepReadAheadUsed(128 << 10) >= 10);
}

}  // namespace
}  // namespace tide::layer
