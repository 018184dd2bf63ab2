// Kubernetes' path: containerd's CRI plugin (snapshotter = "tide", disable_snapshot_annotations =
// false, registry config_path) pulling a tide image on runtime.v1.ImageService/PullImage. Checks
// what must hold with or without lazy layers; laziness is asserted in pull_lazy_e2e_test.cc.
#include <catch2/catch.hpp>
#include <thread>

#include "absl/strings/match.h"
#include "test/e2e/pull/cri_client.h"
#include "test/e2e/pull/pull_checks.h"
#include "test/e2e/pull/pull_env.h"

namespace tide::testing {
namespace {

TEST_CASE("CRI PullImage unpacks a tide image into tide with the cri.* labels", "[pull][cri]") {
  PullEnvOptions options;
  options.enable_cri = true;
  PullEnv env(options);
  env.PushTide("busybox-tide:v1");
  const std::string ref = env.Ref("busybox-tide:v1");
  RegistryImage image = FetchRegistryImage(env, ref);

  auto cri = CriImageClient::Connect(env.containerd().address());
  REQUIRE(cri.ok());
  auto id = (*cri)->PullImage(ref);
  INFO(id.status().ToString());
  REQUIRE(id.ok());
  CHECK(*id == image.manifest.config.digest.str());
  auto status = (*cri)->ImageStatus(ref);
  REQUIRE(status.ok());
  REQUIRE(status->has_value());
  CHECK(std::find((*status)->repo_tags().begin(), (*status)->repo_tags().end(), ref) !=
        (*status)->repo_tags().end());

  // CRI keeps its images in the k8s.io namespace, as ordinary containerd records.
  CheckImageContent(env, ref, "tide", "k8s.io");
  auto info =
      env.Ctr({"-n", "k8s.io", "snapshots", "--snapshotter", "tide", "info", image.chain_ids.back().str()});
  INFO(info.output);
  CHECK(absl::StrContains(info.output, "containerd.io/snapshot/cri.layer-digest"));
  CHECK(absl::StrContains(info.output, "containerd.io/snapshot/cri.image-ref"));

  auto run = env.Ctr({"-n", "k8s.io", "run", "--rm", "--snapshotter", "tide", ref, "cri-pull-run"});
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(run.output == "hello from tide\n");

  REQUIRE((*cri)->RemoveImage(ref).ok());
  auto gone = (*cri)->ImageStatus(ref);
  REQUIRE(gone.ok());
  CHECK_FALSE(gone->has_value());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string snapshots;
  do {
    // A GC pass follows the delete; give it a moment.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    snapshots = env.Ctr({"-n", "k8s.io", "snapshots", "--snapshotter", "tide", "ls"}).output;
  } while (absl::StrContains(snapshots, "sha256:") && std::chrono::steady_clock::now() < deadline);
  CHECK_FALSE(absl::StrContains(snapshots, "sha256:"));
}

}  // namespace
}  // namespace tide::testing
