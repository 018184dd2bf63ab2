// eStargz images, as stargz-snapshotter's `ctr-remote images convert --estargz` writes them, pulled
// lazily through real containerd, docker-registry and tide-snapshotter's FUSE mounts.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "test/e2e/pull/pull_checks.h"
#include "test/e2e/pull/pull_env.h"
#include "test/support/rootfs_listing.h"

namespace tide::testing {
namespace {

// ctr-remote's image, lazily pulled, equals containerd's own unpack; every layer carries a TOC digest.
void CheckLazyEstargz(PullEnv& env, const std::string& ref, const std::string& path) {
  RegistryImage image = FetchRegistryImage(env, ref);
  REQUIRE(image.manifest.layers.size() == 3);
  for (const auto& layer : image.manifest.layers)
    CHECK(layer.annotations.count("containerd.io/snapshot/stargz/toc.digest") == 1);
  // The TOC is a tar entry of the layer, but not a file of the image: tide does not serve it.
  CheckLazyLikeOrdinary(env, ref, path, "esgz", {"/stargz.index.json"});
}

TEST_CASE("ESTARGZ: ctr-remote's eStargz image starts lazily and shows the tree an ordinary pull does",
          "[pull][estargz]") {
  PullEnv env;
  CheckLazyEstargz(env, PushEstargz(env, "busybox-esgz:v1"), "estargz");
}

TEST_CASE("ESTARGZ: ctr-remote's zstd:chunked image starts lazily and shows the tree an ordinary pull does",
          "[pull][estargz][zstdchunked]") {
  PullEnv env;
  CheckLazyEstargz(env, PushEstargz(env, "busybox-zstdc:v1", "--zstdchunked"), "zstd:chunked");
}

TEST_CASE(
    "ZSTD:CHUNKED: skopeo's (containers/storage) zstd:chunked image starts lazily and shows the tree an "
    "ordinary pull does",
    "[pull][estargz][zstdchunked][containers_storage]") {
  PullEnv env;
  // The TOC lies in a skippable frame, not in the tar: every tar entry is an image file.
  CheckLazyLikeOrdinary(env, PushContainersStorageZstdChunked(env, "busybox-cszstd:v1"), "zstd:chunked",
                        "cszstd");
}

TEST_CASE("ZSTD:CHUNKED: a containers/storage chunk the registry serves altered fails its read with EIO",
          "[pull][estargz][zstdchunked][containers_storage]") {
  PullEnv env;
  const std::string ref = PushContainersStorageZstdChunked(env, "busybox-cszstd:v1");
  CheckTamperedLayerGivesEio(env, ref, 1, 3, "cszstd");
  const std::string text = ReadFile(env.tide_log_path());
  // The frames carry zstd's own content checksum, which may catch the change before the chunk's sha256.
  CHECK(absl::StrContains(text, "file=data/random.bin"));
  CHECK((absl::StrContains(text, "sha256 does not match the index") ||
         absl::StrContains(text, "zstd: Restored data doesn't match checksum")));
}

TEST_CASE("ESTARGZ: a chunk the registry serves altered fails its read with EIO, never wrong bytes",
          "[pull][estargz]") {
  PullEnv env;
  const std::string ref = PushEstargz(env, "busybox-esgz:v1");
  // Layer 2 holds /data/random.bin: its first chunk's gzip member.
  CheckTamperedLayerGivesEio(env, ref, 1, 3, "esgz");
  const std::string text = ReadFile(env.tide_log_path());
  CHECK(absl::StrContains(text, "sha256 does not match the index"));
}

TEST_CASE("ESTARGZ: without a diff_id to bind its chainID to, an eStargz layer takes the ordinary path",
          "[pull][estargz]") {
  PullEnv env;
  const std::string ref = PushEstargz(env, "busybox-esgz:v1");
  // containerd's own unpacker passes the toc.digest annotation but no image reference, layer digest
  // or diff_id: tide cannot check the layer, so containerd downloads and applies it.
  auto pulled = env.Ctr({"images", "pull", "--plain-http", "--snapshotter", "tide", ref});
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  auto run = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "esgz-plain"});
  INFO(run.output);
  CHECK(run.output == "hello from tide\n");
  RegistryImage image = FetchRegistryImage(env, ref);
  auto info = env.Ctr({"snapshots", "--snapshotter", "tide", "info", image.chain_ids.back().str()});
  INFO(info.output);
  REQUIRE(info.exit_code == 0);
  CHECK_FALSE(absl::StrContains(info.output, "containerd.io/snapshot/remote"));
}

TEST_CASE("ESTARGZ: with lazy_estargz = false, tidectl pull applies eStargz layers the ordinary way",
          "[pull][estargz]") {
  std::unique_ptr<PullEnv> node = EnvWithConfig("lazy_estargz = false\n");
  PullEnv& env = *node;
  const std::string ref = PushEstargz(env, "busybox-esgz:v1");
  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "(0 lazy, 3 applied, 0 present)"));
  auto run = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "esgz-off"});
  CHECK(run.output == "hello from tide\n");
}

TEST_CASE("ESTARGZ: an eStargz image claiming another image's chainIDs is poisoned once fully fetched",
          "[pull][estargz][security]") {
  std::unique_ptr<PullEnv> node = EnvWithConfig("prefetch = \"all\"\n");
  PullEnv& env = *node;
  const std::string esgz = PushEstargz(env, "busybox-esgz:v1");
  // The hostile image: the eStargz layers, unchanged, under a config that claims the plain image's
  // diff_ids (so its chainIDs). Nothing in an eStargz TOC contradicts that claim.
  RegistryImage plain = FetchRegistryImage(env, env.Ref("busybox-src:v1"));
  const std::filesystem::path layout = env.dir() / "hostile";
  auto copied = RunCommand(
      {"skopeo", "copy", "--src-tls-verify=false", "docker://" + esgz, "oci:" + layout.string() + ":v1"});
  INFO(copied.output);
  REQUIRE(copied.exit_code == 0);
  const std::string tool =
      std::string(std::getenv("TIDE_SOURCE_DIR")) + "/test/support/images/oci_layout_tool.py";
  for (size_t i = 0; i < plain.diff_ids.size(); ++i) {
    auto claimed = RunCommand({"python3", tool, "claim-diff-id", "--out", layout.string(), "--tag", "v1",
                               "--layer", std::to_string(i), "--diff-id", plain.diff_ids[i].str()});
    INFO(claimed.output);
    REQUIRE(claimed.exit_code == 0);
  }
  const std::string hostile = env.Ref("hostile:v1");
  auto pushed = RunCommand(
      {"skopeo", "copy", "--dest-tls-verify=false", "oci:" + layout.string() + ":v1", "docker://" + hostile});
  INFO(pushed.output);
  REQUIRE(pushed.exit_code == 0);
  REQUIRE(FetchRegistryImage(env, hostile).chain_ids == plain.chain_ids);

  // The honest eStargz image, fetched whole, verifies against its own diff_ids.
  auto honest = env.Pull(esgz);
  INFO(honest.output);
  REQUIRE(honest.exit_code == 0);
  CHECK(WaitForLog(env, "layer verified against its diff_id", 3));
  // So does the zstd:chunked one (its TOC's skippable frame is not part of the tar).
  const std::string zstdc = PushEstargz(env, "busybox-zstdc:v1", "--zstdchunked");
  auto zstdc_pull = env.Pull(zstdc);
  INFO(zstdc_pull.output);
  REQUIRE(zstdc_pull.exit_code == 0);
  CHECK(absl::StrContains(zstdc_pull.output, "(3 lazy, 0 applied, 0 present)"));
  CHECK(WaitForLog(env, "layer verified against its diff_id", 6));
  CHECK(env.Ctr({"run", "--rm", "--snapshotter", "tide", esgz, "esgz-honest"}).output == "hello from tide\n");

  // The chainID check passes (the claim is consistent), so the layers mount lazily...
  auto pulled = env.Pull(hostile);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "(3 lazy, 0 applied, 0 present)"));
  // ...and once prefetch has fetched them whole, each one's tar is hashed and found to lie. All three
  // must be: the file read below may be in any of them.
  REQUIRE(WaitForLog(env, "layer poisoned", 3));
  const std::string log = ReadFile(env.tide_log_path());
  CHECK(absl::StrContains(log, "not to the diff_id"));
  auto run = env.Ctr({"run", "--rm", "--snapshotter", "tide", hostile, "esgz-hostile", "/bin/sh", "-c",
                      "/bin/busybox cat /data/hello.txt; echo rc=$?"});
  INFO(run.output);
  CHECK_FALSE(absl::StrContains(run.output, "hello from tide"));
}

// A copy of the env's layout whose layer tars end as GNU tar ends them: zero padding up to a whole
// 10240-byte record after the end-of-archive marker. The config names the padded tars' diff_ids.
std::filesystem::path RecordPaddedLayout(PullEnv& env) {
  return RewriteLayoutLayers(
      env, "record-padded-layout",
      [](const std::filesystem::path& blob, const std::filesystem::path& out, std::string& config_json) {
        // Prints the old and the new tar's sha256, one per line.
        const std::string script =
            "set -e; gzip -dc \"$1\" > \"$2.tar\"; n=$(stat -c %s \"$2.tar\");"
            "truncate -s $(( (n + 10239) / 10240 * 10240 + 10240 )) \"$2.tar\";"
            "gzip -dc \"$1\" | sha256sum | cut -c1-64; sha256sum < \"$2.tar\" | cut -c1-64;"
            "gzip -n < \"$2.tar\" > \"$2\"";
        auto padded = RunCommand({"bash", "-c", script, "-", blob.string(), out.string()});
        INFO(padded.output);
        REQUIRE(padded.exit_code == 0);
        const std::vector<std::string> digests = absl::StrSplit(padded.output, '\n', absl::SkipEmpty());
        REQUIRE(digests.size() == 2);
        REQUIRE(digests[0] != digests[1]);
        REQUIRE(absl::StrContains(config_json, "sha256:" + digests[0]));
        config_json = absl::StrReplaceAll(config_json, {{"sha256:" + digests[0], "sha256:" + digests[1]}});
      });
}

TEST_CASE("ZSTD:CHUNKED: a layer whose source tar had record padding is verified against its diff_id",
          "[pull][zstd_chunked][prefetch]") {
  // containers/storage's writer ends the zstd:chunked stream at the end-of-archive marker, while the
  // config keeps the source tar's diff_id, padding included.
  std::unique_ptr<PullEnv> node = EnvWithConfig("prefetch = \"all\"\n");
  PullEnv& env = *node;
  const std::string padded = env.Ref("busybox-padded:v1");
  auto pushed = RunCommand({"skopeo", "copy", "--dest-tls-verify=false",
                            "oci:" + RecordPaddedLayout(env).string() + ":v1", "docker://" + padded});
  INFO(pushed.output);
  REQUIRE(pushed.exit_code == 0);
  const std::string csz = PushContainersStorageZstdChunked(env, "busybox-csz-padded:v1", padded);
  auto pulled = env.Pull(csz);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "(3 lazy, 0 applied, 0 present)"));
  INFO(ReadFile(env.tide_log_path()));
  REQUIRE(WaitForLog(env, "layer verified against its diff_id", 3));
  CHECK_FALSE(absl::StrContains(ReadFile(env.tide_log_path()), "poisoned"));
  env.registry().Stop();
  auto run = env.Ctr({"run", "--rm", "--snapshotter", "tide", csz, "padded", "/bin/sh", "-c",
                      "cat /data/hello.txt; sha256sum /data/random.bin | head -c 64"});
  INFO(run.output);
  CHECK(absl::StartsWith(run.output, "hello from tide\n"));
  CHECK(run.output.size() == 16 + 64);
}

// With prefetch = "all", the download that checks a layer's tar against its diff_id also fills the
// cache: each layer crosses the link once, not once for the prefetch and again for the check.
TEST_CASE("ESTARGZ: with prefetch all, one download of each layer both prefetches and verifies it",
          "[pull][estargz][prefetch]") {
  std::unique_ptr<PullEnv> node = EnvWithConfig("prefetch = \"all\"\n");
  PullEnv& env = *node;
  const std::string esgz = PushEstargz(env, "busybox-esgz:v1");
  const std::string csz = PushContainersStorageZstdChunked(env, "busybox-csz:v1");
  int verified = 0;
  for (const std::string& ref : {esgz, csz}) {
    INFO(ref);
    const int64_t layers = LayerBytes(env, ref);
    const int64_t before = env.RegistryBlobBytes();
    auto pulled = env.Pull(ref);
    INFO(pulled.output);
    REQUIRE(pulled.exit_code == 0);
    CHECK(absl::StrContains(pulled.output, "(3 lazy, 0 applied, 0 present)"));
    verified += 3;
    REQUIRE(WaitForLog(env, "layer verified against its diff_id", verified));
    std::this_thread::sleep_for(std::chrono::seconds(1));  // nothing more should come
    const int64_t fetched = env.RegistryBlobBytes() - before;
    INFO("registry served " << fetched << " blob bytes for " << layers << " bytes of layers");
    CHECK(fetched >= layers);
    CHECK(fetched < layers + layers / 4);  // a second download would make it 2x
  }
  // Everything is local: the containers run with the registry gone.
  env.registry().Stop();
  for (const std::string& ref : {esgz, csz}) {
    auto run = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "once-" + std::to_string(verified++),
                        "/bin/sh", "-c", "cat /data/hello.txt; sha256sum /data/random.bin | head -c 64"});
    INFO(run.output);
    CHECK(absl::StartsWith(run.output, "hello from tide\n"));
    CHECK(run.output.size() == 16 + 64);
  }
}

// Under CRI the io.containers.zstd-chunked.* annotations do not reach the snapshotter: it reads them
// from the manifest the cri labels name.
TEST_CASE("ZSTD:CHUNKED: a CRI pull (Kubernetes) takes containers/storage zstd:chunked layers lazily",
          "[pull][estargz][zstdchunked][containers_storage][cri]") {
  PullEnvOptions options;
  options.enable_cri = true;
  PullEnv env(options);
  CheckCriPullIsLazy(env, PushContainersStorageZstdChunked(env, "busybox-cszstd:v1"));
}

TEST_CASE("ESTARGZ: a CRI pull (Kubernetes) takes eStargz layers lazily, bound to the config's diff_ids",
          "[pull][estargz][cri]") {
  PullEnvOptions options;
  options.enable_cri = true;
  PullEnv env(options);
  CheckCriPullIsLazy(env, PushEstargz(env, "busybox-esgz:v1"));
}

}  // namespace
}  // namespace tide::testing
