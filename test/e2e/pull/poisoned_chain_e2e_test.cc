// The poisoned-chainID attack through real containerd, docker-registry and tide-snapshotter: a hostile
// image whose config claims a popular base layer's diff_id must not get its own content committed
// under that base's chainID, or every later image with that base (in Kubernetes: every pod of the
// node) would run the hostile files (docs/security.md).
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "oci/image_config.h"
#include "oci/index.h"
#include "oci/manifest.h"
#include "test/e2e/pull/pull_env.h"

namespace tide::testing {
namespace {

std::string Tool() {
  return std::string(std::getenv("TIDE_SOURCE_DIR")) + "/test/support/images/oci_layout_tool.py";
}

// One layer: a static busybox and /data/who saying `who`, converted to a tide layout tagged v1.
std::filesystem::path BuildTideImage(PullEnv& env, const std::string& who) {
  const std::filesystem::path tree = env.dir() / (who + "-tree");
  const std::filesystem::path plain = env.dir() / (who + "-plain");
  const std::filesystem::path tide = env.dir() / (who + "-tide");
  auto built = RunShell(absl::StrCat(
      "set -e; mkdir -p ", tree.string(), "/bin ", tree.string(), "/data; cp /bin/busybox ", tree.string(),
      "/bin/busybox; ln -s busybox ", tree.string(), "/bin/sh; ln -s busybox ", tree.string(),
      "/bin/cat; echo ", who, " > ", tree.string(), "/data/who; tar -C ", tree.string(), " -cf ",
      env.dir().string(), "/", who, ".tar bin data; python3 ", Tool(), " image --out ", plain.string(),
      " --tag v1 --cmd /bin/cat --cmd /data/who --layer ", env.dir().string(), "/", who, ".tar:gzip"));
  INFO(built.output);
  REQUIRE(built.exit_code == 0);
  auto converted = RunCommand(
      {TidectlBinary(), "convert", "-q", "oci:" + plain.string() + ":v1", "oci:" + tide.string() + ":v1"});
  INFO(converted.output);
  REQUIRE(converted.exit_code == 0);
  return tide;
}

std::string DiffIdOf(const std::filesystem::path& layout) {
  auto index = oci::Index::Parse(ReadFile(layout / "index.json"));
  REQUIRE(index.ok());
  REQUIRE(index->manifests.size() == 1);
  auto blob = [&](const Digest& d) { return ReadFile(layout / "blobs" / "sha256" / std::string(d.hex())); };
  auto manifest = oci::Manifest::Parse(blob(index->manifests[0].digest));
  REQUIRE(manifest.ok());
  auto config = oci::ImageConfig::Parse(blob(manifest->config.digest));
  REQUIRE(config.ok());
  auto diff_ids = config->DiffIds();
  REQUIRE(diff_ids.ok());
  REQUIRE(diff_ids->size() == 1);
  return diff_ids->front().str();
}

void Push(PullEnv& env, const std::filesystem::path& layout, const std::string& repo_tag) {
  auto pushed = RunCommand({"skopeo", "copy", "--dest-tls-verify=false", "oci:" + layout.string() + ":v1",
                            "docker://" + env.Ref(repo_tag)});
  INFO(pushed.output);
  REQUIRE(pushed.exit_code == 0);
}

TEST_CASE("a hostile image claiming a base layer's diff_id cannot poison that chainID",
          "[pull][e2e][security]") {
  PullEnv env;
  const std::filesystem::path honest = BuildTideImage(env, "honest");
  const std::filesystem::path hostile = BuildTideImage(env, "hostile");
  const std::string honest_diff_id = DiffIdOf(honest);
  REQUIRE(DiffIdOf(hostile) != honest_diff_id);
  auto claimed = RunCommand({"python3", Tool(), "claim-diff-id", "--out", hostile.string(), "--tag", "v1",
                             "--layer", "0", "--diff-id", honest_diff_id});
  INFO(claimed.output);
  REQUIRE(claimed.exit_code == 0);
  REQUIRE(DiffIdOf(hostile) == honest_diff_id);
  Push(env, honest, "honest:v1");
  Push(env, hostile, "hostile:v1");

  // The hostile pull must not end with its files committed under the honest chainID: tide refuses the
  // lazy path (the index commits to another diff_id), and containerd's ordinary path then sees the
  // tar's real digest.
  auto hostile_pull = env.Pull(env.Ref("hostile:v1"));
  INFO(hostile_pull.output);
  CHECK(hostile_pull.exit_code != 0);
  CHECK(absl::StrContains(hostile_pull.output, "diff_id"));

  auto honest_pull = env.Pull(env.Ref("honest:v1"));
  INFO(honest_pull.output);
  REQUIRE(honest_pull.exit_code == 0);
  auto run = env.Ctr({"run", "--rm", "--snapshotter", "tide", env.Ref("honest:v1"), "poison-honest-run"});
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  CHECK(run.output == "honest\n");
}

}  // namespace
}  // namespace tide::testing
