// Layers whose xattrs live in local shadow directories, stacked under real overlayfs with real FUSE
// mounts and compared with the tars applied by GNU tar.
#include "layer/xattr_shadow.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "layer/layer_mount.h"
#include "test/integration/layer/layer_builder.h"
#include "test/integration/layer/tree_compare.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

namespace tide::layer {
namespace {

namespace fs = std::filesystem;
using tide::testing::ReadFile;
using tide::testing::RunCommand;
using tide::testing::TempDir;
using tide::testing::WriteFile;

// A POSIX ACL as the kernel stores it in system.posix_acl_*: a version, then (tag, perm, id) entries.
std::string Acl(uint32_t named_user) {
  std::string v;
  auto put = [&v](uint64_t x, int bytes) {
    for (int i = 0; i < bytes; ++i) v.push_back(static_cast<char>((x >> (8 * i)) & 0xff));
  };
  put(2, 4);
  for (auto [tag, perm, id] : {std::tuple{0x01, 7, 0xffffffffu},
                               {0x02, 5, named_user},
                               {0x04, 5, 0xffffffffu},
                               {0x10, 5, 0xffffffffu},
                               {0x20, 5, 0xffffffffu}}) {
    put(static_cast<uint64_t>(tag), 2);
    put(static_cast<uint64_t>(perm), 2);
    put(id, 4);
  }
  return v;
}

std::string Xattr(const fs::path& p, const char* name) {
  char value[256];
  const ssize_t n = ::lgetxattr(p.c_str(), name, value, sizeof(value));
  return n < 0 ? std::string("<errno ") + std::to_string(errno) + ">"
               : std::string(value, static_cast<size_t>(n));
}

void SetXattr(const fs::path& p, const char* name, const std::string& value) {
  REQUIRE(::lsetxattr(p.c_str(), name, value.data(), value.size(), 0) == 0);
}

std::string RandomBytes(size_t n) {
  std::mt19937_64 rng(7);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

struct Env {
  TempDir dir{"tide-xattr-shadow"};
  std::shared_ptr<cache::ChunkCache> cache = std::move(*cache::ChunkCache::Open(dir / "cache", 1ull << 30));
  std::shared_ptr<fetch::FetchLimiter> limiter = std::make_shared<fetch::FetchLimiter>(fetch::FetchLimits{});
  std::shared_ptr<fetch::PrefetchQueue> queue =
      std::make_shared<fetch::PrefetchQueue>(limiter, fetch::FetchLimits{});
  std::vector<fs::path> tars;

  testing::BuiltLayer Build(const std::string& name) {
    format::LayerWriterOptions wo;
    wo.chunk_size = 64 << 10;  // files span several chunks
    auto layer = testing::BuildLayer(dir / ("tree-" + name), dir.path(), name, wo);
    INFO(layer.status().message());
    REQUIRE(layer.ok());
    tars.push_back(layer->tar);
    return *layer;
  }

  // Mounts at <dir>/<name>/fs, as the snapshotter does, so the shadow sits in <dir>/<name>.
  std::unique_ptr<LayerMount> Mount(const testing::BuiltLayer& layer, const std::string& name, bool build) {
    const fs::path mnt = dir / name / "fs";
    fs::create_directories(mnt);
    std::shared_ptr<fetch::BlobSource> blob = std::move(*fetch::FileBlobSource::Open(layer.blob));
    auto index = LoadLayerIndex(*blob, layer.index_location(), cache.get());
    REQUIRE(index.ok());
    LayerMountOptions options;
    options.prefetch = fetch::PrefetchMode::kNone;
    options.xattr_shadow = {.dir = dir / name, .build = build};
    auto m = LayerMount::Create(name, blob, *index, cache, queue, mnt, options);
    INFO(m.status().message());
    REQUIRE(m.ok());
    return std::move(*m);
  }
};

// Mounts overlayfs on `lowers` (top first) with an upper dir, unmounting when done.
struct Overlay {
  fs::path merged;
  Overlay(const fs::path& base, const std::vector<fs::path>& lowers) : merged(base / "merged") {
    for (const char* d : {"merged", "upper", "work"}) fs::create_directories(base / d);
    std::vector<std::string> dirs;
    dirs.reserve(lowers.size());
    for (const fs::path& l : lowers) dirs.push_back(l.string());
    const std::string opts =
        absl::StrCat("lowerdir=", absl::StrJoin(dirs, ":"), ",upperdir=", (base / "upper").string(),
                     ",workdir=", (base / "work").string());
    REQUIRE(::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) == 0);
  }
  ~Overlay() { ::umount2(merged.c_str(), MNT_DETACH); }
};

TEST_CASE("a layer's ACLs, file capabilities, user xattrs and opaque dirs served from a shadow") {
  Env env;
  const fs::path t1 = env.dir / "tree-l1", t2 = env.dir / "tree-l2";
  WriteFile(t1 / "c/old", "hidden by the opaque dir above\n");
  WriteFile(t1 / "c/sub/old", "hidden too\n");
  WriteFile(t1 / "etc/acl-dir/from-l1", "merged into the ACL dir\n");
  WriteFile(t1 / "keep", "kept\n");
  const std::string pinger = RandomBytes(300 << 10);
  WriteFile(t2 / "usr/bin/pinger", pinger);
  WriteFile(t2 / "usr/bin/plain", "no xattrs\n");
  WriteFile(t2 / "etc/acl-dir/inside", "in a dir with an ACL\n");
  WriteFile(t2 / "data/tagged.txt", "tagged\n");
  fs::create_directories(t2 / "other");
  REQUIRE(::link((t2 / "data/tagged.txt").c_str(), (t2 / "other/same-file").c_str()) == 0);
  WriteFile(t2 / "tagged-dir/deeper/file", "under a dir with an xattr\n");
  WriteFile(t2 / "c/.wh..wh..opq", "");
  WriteFile(t2 / "c/new", "new\n");
  REQUIRE(::chmod((t2 / "usr/bin/pinger").c_str(), 04755) == 0);
  REQUIRE(RunCommand({"setcap", "cap_net_raw+ep", (t2 / "usr/bin/pinger").string()}).exit_code == 0);
  SetXattr(t2 / "etc/acl-dir", "system.posix_acl_access", Acl(1000));
  SetXattr(t2 / "etc/acl-dir", "system.posix_acl_default", Acl(1001));
  SetXattr(t2 / "data/tagged.txt", "user.tide.color", "blue");
  SetXattr(t2 / "tagged-dir", "user.tide.dir", "yes");
  REQUIRE(::chown((t2 / "tagged-dir").c_str(), 1234, 5678) == 0);
  REQUIRE(::chmod((t2 / "tagged-dir").c_str(), 0750) == 0);
  REQUIRE(RunCommand(
              {"find", t2.string(), "-exec", "touch", "-h", "-d", "2001-02-03 04:05:06.123456789", "{}", "+"})
              .exit_code == 0);
  const std::string cap = Xattr(t2 / "usr/bin/pinger", "security.capability");
  REQUIRE(cap.size() >= 20);

  auto l1 = env.Build("l1");
  auto l2 = env.Build("l2");
  auto m1 = env.Mount(l1, "l1", /*build=*/true);
  auto m2 = env.Mount(l2, "l2", /*build=*/true);
  CHECK_FALSE(m1->xattrs_shadowed());  // nothing to shadow
  CHECK(ShadowedLowerDirs(m1->mountpoint()) == std::vector<fs::path>{m1->mountpoint()});
  REQUIRE(m2->xattrs_shadowed());
  std::vector<fs::path> lowers = ShadowedLowerDirs(m2->mountpoint());
  REQUIRE(lowers.size() == 3);
  CHECK(lowers[1] == m2->mountpoint());
  // The shadow holds the entries with xattrs and their parents, nothing else.
  CHECK(fs::exists(lowers[0] / "usr/bin/pinger"));
  CHECK_FALSE(fs::exists(lowers[0] / "usr/bin/plain"));
  CHECK(fs::is_empty(lowers[0] / "etc/acl-dir"));
  CHECK(fs::is_empty(lowers[2] / "c"));
  CHECK(Xattr(lowers[2] / "c", "trusted.overlay.opaque") == "y");

  REQUIRE(testing::ApplyLayers(env.tars, env.dir / "expected").ok());
  {
    lowers.push_back(m1->mountpoint());
    Overlay overlay(env.dir.path(), lowers);
    testing::CompareOptions co;
    co.inode_links = false;
    auto diffs = testing::CompareTrees(env.dir / "expected", overlay.merged, co);
    INFO(absl::StrJoin(diffs, "\n"));
    CHECK(diffs.empty());
    CHECK(Xattr(overlay.merged / "usr/bin/pinger", "security.capability") == cap);
    CHECK(Xattr(overlay.merged / "etc/acl-dir", "system.posix_acl_default") == Acl(1001));
    CHECK(Xattr(overlay.merged / "data/tagged.txt", "user.tide.color") == "blue");
    // Both names of a linked file are in the shadow, one inode with its xattrs.
    CHECK(Xattr(overlay.merged / "other/same-file", "user.tide.color") == "blue");
    struct stat a {
    }, b{};
    REQUIRE(::lstat((lowers[0] / "data/tagged.txt").c_str(), &a) == 0);
    REQUIRE(::lstat((lowers[0] / "other/same-file").c_str(), &b) == 0);
    CHECK(a.st_ino == b.st_ino);
    CHECK(ReadFile(overlay.merged / "usr/bin/pinger") == pinger);
    CHECK(fs::exists(overlay.merged / "etc/acl-dir/from-l1"));
    CHECK_FALSE(fs::exists(overlay.merged / "c/old"));
    CHECK(fs::exists(overlay.merged / "keep"));
    struct stat st {};
    REQUIRE(::lstat((overlay.merged / "tagged-dir").c_str(), &st) == 0);
    CHECK(st.st_uid == 1234);
    CHECK((st.st_mode & 07777) == 0750);
  }
  // The whole walk cost the shadowed layer one GETXATTR.
  CHECK(m2->fs().getxattr_requests() <= 1);

  // A restore mounts the same layer again and takes the shadow that is there; it builds none.
  m2.reset();
  auto again = env.Mount(l2, "l2", /*build=*/false);
  CHECK(again->xattrs_shadowed());
  RemoveXattrShadow(env.dir / "l2");
  again.reset();
  again = env.Mount(l2, "l2", /*build=*/false);
  CHECK_FALSE(again->xattrs_shadowed());
  CHECK(ShadowedLowerDirs(again->mountpoint()).size() == 1);
  CHECK(Xattr(again->mountpoint() / "data/tagged.txt", "user.tide.color") == "blue");
}

TEST_CASE("a layer keeps serving its xattrs when a shadow could not hold them the same") {
  Env env;
  const fs::path tree = env.dir / "tree-l";
  WriteFile(tree / "file", "x\n");
  std::string why;
  SECTION("a trusted.* xattr, which could steer overlayfs") {
    SetXattr(tree / "file", "trusted.tide.secret", "s3cr3t");
    why = "trusted.tide.secret";
  }
  SECTION("files with xattrs larger than the bound") {
    WriteFile(tree / "big", RandomBytes(17 << 20));
    SetXattr(tree / "big", "user.tide.big", "yes");
    why = "bytes";
  }
  auto layer = env.Build("l");
  auto m = env.Mount(layer, "l", /*build=*/true);
  CHECK_FALSE(m->xattrs_shadowed());
  CHECK_FALSE(HasXattrShadow(env.dir / "l"));
  CHECK(ShadowedLowerDirs(m->mountpoint()) == std::vector<fs::path>{m->mountpoint()});
  CHECK(CheckShadowable(m->fs()).message().find(why) != std::string::npos);
  // The mount serves them as before.
  CHECK(::lgetxattr((m->mountpoint() / "file").c_str(), "user.nope", nullptr, 0) == -1);
  CHECK(errno == ENODATA);
}

}  // namespace
}  // namespace tide::layer
