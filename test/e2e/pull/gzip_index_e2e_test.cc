// Unchanged gzip images made lazy by a gzip side index (`tidectl index`), pulled through real
// containerd, docker-registry 2.8 (no referrers API: the referrers tag) and tide-snapshotter's FUSE
// mounts.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "oci/manifest.h"
#include "oci/oci_layout.h"
#include "registry/registry_client.h"
#include "side_index/side_index_artifact.h"
#include "test/e2e/pull/pull_checks.h"
#include "test/e2e/pull/pull_env.h"
#include "test/support/rootfs_listing.h"

namespace tide::testing {
namespace {

// The one side index artifact `tidectl index` pushed for `manifest`, and a client to fetch it with.
struct IndexArtifact {
  std::unique_ptr<registry::RegistryClient> client;
  registry::Reference repo;
  Digest digest;
};

IndexArtifact OnlyIndexArtifact(const std::string& ref, const Digest& manifest) {
  registry::RegistryClientOptions client_options;
  client_options.plain_http = true;
  auto client = registry::RegistryClient::Create(client_options);
  REQUIRE(client.ok());
  auto repo = registry::Reference::Parse(ref);
  REQUIRE(repo.ok());
  auto listed = (*client)->ListReferrers(*repo, manifest);
  REQUIRE(listed.ok());
  REQUIRE(listed->manifests.size() == 1);
  return IndexArtifact{std::move(*client), *repo, listed->manifests[0].digest};
}

// A copy of the env's layout whose layers are each re-compressed as two gzip members (the tar
// cut in the middle), as concatenated streams are. The diff_ids, and so the config, are unchanged.
std::filesystem::path MultiMemberLayout(PullEnv& env) {
  return RewriteLayoutLayers(
      env, "multi-member-layout",
      [](const std::filesystem::path& blob, const std::filesystem::path& out, std::string&) {
        const std::string script =
            "set -e; gzip -dc \"$1\" > \"$2.tar\"; n=$(stat -c %s \"$2.tar\"); h=$((n / 2 + 1234));"
            "head -c $h \"$2.tar\" | gzip -n > \"$2\"; tail -c +$((h + 1)) \"$2.tar\" | gzip -n >> \"$2\"";
        auto recompressed = RunCommand({"bash", "-c", script, "-", blob.string(), out.string()});
        INFO(recompressed.output);
        REQUIRE(recompressed.exit_code == 0);
      });
}

TEST_CASE("GZIP INDEX: an unchanged gzip image starts lazily and shows the tree an ordinary pull does",
          "[pull][gzip_index]") {
  PullEnv env;
  const std::string ref = PushGzipIndexed(env, "busybox-gz:v1");
  CheckLazyLikeOrdinary(env, ref, "gzip+index", "gz");
}

TEST_CASE("GZIP INDEX: a span the registry serves altered fails its read with EIO, never wrong bytes",
          "[pull][gzip_index]") {
  PullEnv env;
  const std::string ref = PushGzipIndexed(env, "busybox-gz:v1");
  CheckTamperedLayerGivesEio(env, ref, 1, 2, "gz");
  const std::string log = ReadFile(env.tide_log_path());
  CHECK((absl::StrContains(log, "sha256 does not match the index") ||
         absl::StrContains(log, "deflate data is corrupt")));
}

TEST_CASE("GZIP INDEX: an image without a side index falls back, logged once with the reason",
          "[pull][gzip_index]") {
  PullEnv env;
  env.PushPlain("busybox-plain:v1");
  const std::string ref = env.Ref("busybox-plain:v1");
  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  INFO(ReadFile(env.tide_log_path()));
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "(0 lazy, 3 applied, 0 present)"));
  CHECK(env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "gz-plain"}).output == "hello from tide\n");
  const std::string log = ReadFile(env.tide_log_path());
  INFO(log);
  CHECK(CountOf(log, "has no gzip side index") == 1);
}

TEST_CASE("GZIP INDEX: with lazy_gzip_index = false, indexed gzip layers take the ordinary path",
          "[pull][gzip_index]") {
  std::unique_ptr<PullEnv> node = EnvWithConfig("lazy_gzip_index = false\n");
  PullEnv& env = *node;
  const std::string ref = PushGzipIndexed(env, "busybox-gz:v1");
  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  INFO(ReadFile(env.tide_log_path()));
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "(0 lazy, 3 applied, 0 present)"));
  CHECK(env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "gz-off"}).output == "hello from tide\n");
}

TEST_CASE("GZIP INDEX: an artifact that gives a layer another layer's side index falls back for those layers",
          "[pull][gzip_index][security]") {
  PullEnv env;
  const std::string ref = PushGzipIndexed(env, "busybox-gz:v1");
  RegistryImage image = FetchRegistryImage(env, ref);
  IndexArtifact found = OnlyIndexArtifact(ref, image.manifest_digest);
  auto& client = found.client;
  auto& repo = found.repo;
  auto artifact = client->FetchManifest(repo, found.digest);
  REQUIRE(artifact.ok());
  auto layers = side_index::ParseArtifactManifest(artifact->bytes, image.manifest_digest);
  REQUIRE(layers.ok());
  // A hostile artifact: layer 1 and layer 2 swap their side indexes.
  std::vector<side_index::LayerSideIndex> swapped = {
      {image.manifest.layers[0].digest, layers->at(image.manifest.layers[1].digest.str())},
      {image.manifest.layers[1].digest, layers->at(image.manifest.layers[0].digest.str())},
      {image.manifest.layers[2].digest, layers->at(image.manifest.layers[2].digest.str())}};
  oci::Descriptor subject;
  subject.media_type = image.manifest.media_type.empty() ? "application/vnd.oci.image.manifest.v1+json"
                                                         : image.manifest.media_type;
  subject.digest = image.manifest_digest;
  subject.size = 1;  // the finder checks the subject's digest
  const std::string hostile = side_index::ArtifactManifest(subject, swapped);
  auto pushed = client->PushManifest(repo.WithTag("").WithDigest(Digest::Of(hostile)), hostile,
                                     "application/vnd.oci.image.manifest.v1+json");
  REQUIRE(pushed.ok());

  auto pulled = env.Pull(ref, {"--index", pushed->str()});
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  // Each swapped index names the other layer: both fall back; the third is served lazily.
  CHECK(absl::StrContains(pulled.output, "(1 lazy, 2 applied, 0 present)"));
  CHECK(env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "gz-swapped"}).output == "hello from tide\n");
  const std::string log = ReadFile(env.tide_log_path());
  CHECK(absl::StrContains(log, "gzip side index describes layer"));
}

// [side_index_pins] in tide-snapshotter's config: a pinned artifact is used alone, so a pin to an
// artifact the registry does not have makes the image fall back even though its referrers list a
// good one; a pin to that good one makes it lazy.
TEST_CASE("GZIP INDEX: a side index pinned in the config is the only one used",
          "[pull][gzip_index][config]") {
  std::unique_ptr<PullEnv> node = EnvWithConfig("lazy_gzip_index = true\n");
  PullEnv& env = *node;
  const std::string ref = PushGzipIndexed(env, "busybox-gz:v1");
  const Digest manifest = FetchRegistryImage(env, ref).manifest_digest;
  const std::string artifact = OnlyIndexArtifact(ref, manifest).digest.str();
  auto pin = [&](const std::string& to) {
    env.KillAndRestartSnapshotter([&] {
      WriteFile(env.dir() / "tide.toml", absl::StrCat("lazy_gzip_index = true\n[side_index_pins]\n\"",
                                                      manifest.str(), "\" = \"", to, "\"\n"));
    });
    env.WaitForContainerdToReachTide();
  };

  pin("sha256:" + std::string(64, '0'));
  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  INFO(ReadFile(env.tide_log_path()));
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "(0 lazy, 3 applied, 0 present)"));
  CHECK(env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "gz-pin-missing"}).output ==
        "hello from tide\n");
  CheckRemovedByGc(env, ref);

  pin(artifact);
  auto lazy = env.Pull(ref);
  INFO(lazy.output);
  REQUIRE(lazy.exit_code == 0);
  CHECK(absl::StrContains(lazy.output, "(3 lazy, 0 applied, 0 present)"));
  CHECK(env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "gz-pinned"}).output == "hello from tide\n");
}

TEST_CASE("GZIP INDEX: an image indexed in its OCI layout, then copied and published, starts lazily",
          "[pull][gzip_index][layout]") {
  PullEnv env;
  const std::filesystem::path layout = env.dir() / "indexed-layout";
  std::filesystem::copy(env.Layout(), layout, std::filesystem::copy_options::recursive);
  const std::string src = "oci:" + layout.string() + ":v1";
  auto opened = oci::OciLayout::Open(layout);
  REQUIRE(opened.ok());
  auto image = opened->Resolve("v1");
  REQUIRE(image.ok());

  // Into the layout: the artifact is a referrer listed in index.json; the image is untouched.
  for (int run = 0; run < 2; ++run) {
    auto indexed = RunCommand({TidectlBinary(), "index", "--spacing", "256KiB", src});
    INFO(indexed.output);
    REQUIRE(indexed.exit_code == 0);
    CHECK(absl::StrContains(indexed.output, "to oci:" + layout.string() + " (index.json)"));
  }
  auto referrers = opened->Referrers(image->digest, side_index::kArtifactType);
  REQUIRE(referrers.ok());
  REQUIRE(referrers->size() == 1);  // indexing twice lists it once
  auto artifact = opened->ReadBlob((*referrers)[0].digest);
  REQUIRE(artifact.ok());
  auto layers = side_index::ParseArtifactManifest(*artifact, image->digest);
  REQUIRE(layers.ok());
  CHECK(layers->size() == 3);
  CHECK(opened->Resolve("v1")->digest == image->digest);
  CHECK(opened->Resolve("")->digest == image->digest);  // a referrer is not a second image

  // Copied as it is, the registry holds the same manifest; the artifact is then published beside it.
  const std::string ref = env.Ref("busybox-gz-layout:v1");
  auto copied = RunCommand({"skopeo", "copy", "--dest-tls-verify=false", src, "docker://" + ref});
  INFO(copied.output);
  REQUIRE(copied.exit_code == 0);
  REQUIRE(FetchRegistryImage(env, ref).manifest_digest == image->digest);
  auto published = RunCommand({TidectlBinary(), "index", "--plain-http", "--spacing", "256KiB", src,
                               "docker://" + env.Ref("busybox-gz-layout")});
  INFO(published.output);
  REQUIRE(published.exit_code == 0);
  CHECK(absl::StrContains(published.output, "referrers tag sha256-" + std::string(image->digest.hex())));
  CHECK(FetchRegistryImage(env, ref).manifest_digest == image->digest);
  CheckLazyLikeOrdinary(env, ref, "gzip+index", "gz-layout");

  // A repository that does not hold the image gets nothing: its artifact would never be found.
  auto elsewhere =
      RunCommand({TidectlBinary(), "index", "--plain-http", src, "docker://" + env.Ref("other")});
  INFO(elsewhere.output);
  CHECK(elsewhere.exit_code != 0);
  CHECK(absl::StrContains(elsewhere.output, "does not hold the image manifest " + image->digest.str()));
  CHECK_FALSE(absl::StrContains(elsewhere.output, "layer 1"));
}

TEST_CASE("GZIP INDEX: layers of several gzip members are indexed and start lazily", "[pull][gzip_index]") {
  PullEnv env;
  const std::string src = "oci:" + MultiMemberLayout(env).string() + ":v1";
  const std::string ref = env.Ref("busybox-gz-members:v1");
  auto copied = RunCommand({"skopeo", "copy", "--dest-tls-verify=false", src, "docker://" + ref});
  INFO(copied.output);
  REQUIRE(copied.exit_code == 0);
  // Really two non-empty members each: data follows the first member's end.
  for (const oci::Descriptor& layer : FetchRegistryImage(env, ref).manifest.layers) {
    auto members = RunCommand(
        {"python3", "-c",
         "import sys,zlib; d=zlib.decompressobj(31); out=d.decompress(open(sys.argv[1],'rb').read());"
         "print('members', len(out) > 0 and len(d.unused_data) > 20)",
         (env.dir() / "multi-member-layout" / "blobs" / "sha256" / std::string(layer.digest.hex()))
             .string()});
    INFO(members.output);
    CHECK(absl::StrContains(members.output, "members True"));
  }
  auto indexed =
      RunCommand({TidectlBinary(), "index", "--plain-http", "--spacing", "256KiB", "docker://" + ref});
  INFO(indexed.output);
  REQUIRE(indexed.exit_code == 0);
  CHECK_FALSE(absl::StrContains(indexed.output, "skipped"));
  CHECK(absl::StrContains(indexed.output, "for 3 layer(s)"));
  CheckLazyLikeOrdinary(env, ref, "gzip+index", "gz-members");
}

TEST_CASE("GZIP INDEX: a CRI pull (Kubernetes) finds the side index and takes the layers lazily",
          "[pull][gzip_index][cri]") {
  PullEnvOptions options;
  options.enable_cri = true;
  PullEnv env(options);
  CheckCriPullIsLazy(env, PushGzipIndexed(env, "busybox-gz:v1"));
}

}  // namespace
}  // namespace tide::testing
