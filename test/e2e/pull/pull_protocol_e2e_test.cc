// The remote-snapshot path of tidectl pull and of a nerdctl-style client against real containerd,
// with tide-snapshotter's test bind mounter standing in for FUSE (a "remote" layer is a directory
// holding the layer's files). Proves the client side of the protocol independently of the FUSE
// wiring: ALREADY_EXISTS handling, no layer blob downloaded, `ctr run` on remote snapshots, GC.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "oci/image_config.h"
#include "oci/index.h"
#include "oci/manifest.h"
#include "test/e2e/pull/nerdctl_style_client.h"
#include "test/e2e/pull/pull_checks.h"
#include "test/e2e/pull/pull_env.h"

namespace tide::testing {
namespace {

// Unpacks layer i of the source layout into layers/<hex of tide layer i's index digest>, where
// the bind mounter looks for it, with the layer's diff_id beside it (what a tide index carries).
void PrepareBindLayers(PullEnv& env, const std::string& tide_ref) {
  std::filesystem::path blobs = env.Layout() / "blobs" / "sha256";
  auto index = oci::Index::Parse(ReadFile(env.Layout() / "index.json"));
  REQUIRE(index.ok());
  REQUIRE(index->manifests.size() == 1);
  auto source = oci::Manifest::Parse(ReadFile(blobs / std::string(index->manifests[0].digest.hex())));
  REQUIRE(source.ok());
  RegistryImage tide = FetchRegistryImage(env, tide_ref);
  REQUIRE(tide.manifest.layers.size() == source->layers.size());
  auto config = oci::ImageConfig::Parse(ReadFile(blobs / std::string(source->config.digest.hex())));
  REQUIRE(config.ok());
  auto diff_ids = config->DiffIds();
  REQUIRE(diff_ids.ok());
  REQUIRE(diff_ids->size() == source->layers.size());
  for (size_t i = 0; i < source->layers.size(); ++i) {
    const std::string& index_digest =
        tide.manifest.layers[i].annotations.at("containerd.io/snapshot/tide.index-digest");
    std::filesystem::path dir = env.layers_dir() / index_digest.substr(7);
    std::filesystem::create_directories(dir);
    auto untar = RunCommand(
        {"tar", "-xzf", (blobs / std::string(source->layers[i].digest.hex())).string(), "-C", dir.string()});
    INFO(untar.output);
    REQUIRE(untar.exit_code == 0);
    WriteFile(env.layers_dir() / (index_digest.substr(7) + ".diff_id"), (*diff_ids)[i].str() + "\n");
  }
}

TEST_CASE("tidectl pull takes remote layers without downloading them (bind mounter)", "[pull][protocol]") {
  PullEnvOptions options;
  options.bind_mounter = true;
  PullEnv env(options);
  env.PushTide("busybox-tide:v1");
  const std::string ref = env.Ref("busybox-tide:v1");
  PrepareBindLayers(env, ref);
  RegistryImage image = FetchRegistryImage(env, ref);
  const int64_t before = env.RegistryBlobBytes();

  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "(3 lazy, 0 applied, 0 present)"));
  // Only the config came from the blob endpoint; no layer bytes at all.
  CHECK(env.RegistryBlobBytes() - before == image.manifest.config.size);
  CheckImageContent(env, ref, "tide");
  CheckUncompressedLabels(env, ref, 0);
  auto info = env.Ctr({"snapshots", "--snapshotter", "tide", "info", image.chain_ids.back().str()});
  CHECK(absl::StrContains(info.output, "containerd.io/snapshot/remote"));
  CHECK(absl::StrContains(info.output, "containerd.io/snapshot/cri.layer-digest"));

  auto run = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "pull-protocol-run"});
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  CHECK(run.output == "hello from tide\n");

  auto again = env.Pull(ref);
  CHECK(absl::StrContains(again.output, "(0 lazy, 0 applied, 3 present)"));
  CheckRemovedByGc(env, ref);
}

TEST_CASE("a nerdctl-style unpack (snapshot.ref + layer annotations, no cri.*) is taken remotely",
          "[pull][protocol][nerdctl]") {
  PullEnvOptions options;
  options.bind_mounter = true;
  PullEnv env(options);
  env.PushTide("busybox-tide:v1");
  const std::string ref = env.Ref("busybox-tide:v1");
  PrepareBindLayers(env, ref);

  std::vector<NerdctlLayerResult> layers = NerdctlStyleUnpack(env, ref);
  REQUIRE(layers.size() == 3);
  for (const NerdctlLayerResult& layer : layers) {
    INFO(layer.prepare.ToString());
    CHECK(absl::IsAlreadyExists(layer.prepare));
    CHECK(layer.committed);
    CHECK(layer.remote_label);
    CHECK_FALSE(layer.cri_labels);
  }
  // The same through tidectl with --no-cri-labels.
  auto pulled = env.Pull(ref, {"--no-cri-labels"});
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "(3 lazy, 0 applied, 0 present)"));
  auto run = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "pull-protocol-nerdctl"});
  CHECK(run.output == "hello from tide\n");
  CheckRemovedByGc(env, ref);
}

}  // namespace
}  // namespace tide::testing
