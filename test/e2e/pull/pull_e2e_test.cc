// tidectl pull against a real containerd 1.6, a real tide-snapshotter and a real docker-registry:
// everything that must hold whether a layer is served lazily or unpacked by containerd (image
// record, content store, GC, fallback apply, errors). Laziness itself is asserted in
// pull_lazy_e2e_test.cc.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "test/e2e/pull/pull_checks.h"
#include "test/e2e/pull/pull_env.h"

namespace tide::testing {
namespace {

TEST_CASE("tidectl pull of a tide image: ctr run works, ctr images rm + GC leaves nothing", "[pull][e2e]") {
  PullEnv env;
  env.PushTide("busybox-tide:v1");
  const std::string ref = env.Ref("busybox-tide:v1");

  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "pulled " + ref));
  CHECK(absl::StrContains(pulled.output, "3 layers"));

  auto images = env.Ctr({"images", "ls", "-q"});
  CHECK(SplitLines(images.output) == std::vector<std::string>{ref});
  CheckImageContent(env, ref, "tide");
  CHECK(env.Ctr({"leases", "ls", "-q"}).output.empty());

  auto run = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "pull-e2e-run", "sh", "-c",
                      "cat /data/hello.txt /data/third.txt; ls /data"});
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  CHECK(absl::StrContains(run.output, "hello from tide\nthird layer\n"));
  CHECK(absl::StrContains(run.output, "random.bin"));
  CHECK_FALSE(absl::StrContains(run.output, "removed.txt"));

  CheckRemovedByGc(env, ref);
}

TEST_CASE("tidectl pull of a plain gzip image unpacks every layer and is idempotent", "[pull][e2e]") {
  PullEnv env;
  env.PushPlain("busybox:v1");
  const std::string ref = env.Ref("busybox:v1");

  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "(0 lazy, 3 applied, 0 present)"));
  // Every gzip layer was downloaded and applied, and carries its DiffID as containerd's do.
  CHECK(env.RegistryBlobBytes() >= LayerBytes(env, ref));
  CheckImageContent(env, ref, "tide");
  CheckUncompressedLabels(env, ref, /*expected_layers=*/3);

  auto again = env.Pull(ref);
  INFO(again.output);
  REQUIRE(again.exit_code == 0);
  CHECK(absl::StrContains(again.output, "(0 lazy, 0 applied, 3 present)"));

  auto run = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "pull-e2e-plain"});
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  CHECK(run.output == "hello from tide\n");
  CheckRemovedByGc(env, ref);
}

TEST_CASE("tidectl pull of a mixed image (tide and gzip layers) runs", "[pull][e2e]") {
  PullEnv env;
  env.PushPlain("mixed:gzip");
  env.PushTide("mixed:tide");
  const std::string ref = env.Ref("mixed:v1");
  // Layers 1 and 3 tide, layer 2 the original gzip blob; same DiffIDs, so the tide config fits.
  PushMixedManifest(env, env.Ref("mixed:tide"), env.Ref("mixed:gzip"), ref, {false, true, false});

  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "3 layers"));
  CheckImageContent(env, ref, "tide");
  // The gzip layer can only have been unpacked by containerd.
  CHECK(CountUncompressedLabels(env, ref) >= 1);

  auto run =
      env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "pull-e2e-mixed", "cat", "/data/third.txt"});
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  CHECK(run.output == "third layer\n");
  CheckRemovedByGc(env, ref);
}

TEST_CASE("tidectl pull failures are clear and leave no image record", "[pull][e2e]") {
  PullEnv env;
  env.PushTide("busybox-tide:v1");

  SECTION("missing tag") {
    auto pulled = env.Pull(env.Ref("busybox-tide:no-such-tag"));
    INFO(pulled.output);
    CHECK(pulled.exit_code == 1);
    CHECK(absl::StrContains(pulled.output, "no-such-tag"));
    CHECK(absl::StrContains(pulled.output, "404"));
  }
  SECTION("missing repository") {
    auto pulled = env.Pull(env.Ref("nothing-here:v1"));
    INFO(pulled.output);
    CHECK(pulled.exit_code == 1);
    CHECK(absl::StrContains(pulled.output, "nothing-here"));
  }
  SECTION("image for another platform") {
    auto pulled = env.Pull(env.Ref("busybox-tide:v1"), {"--platform", "linux/arm64"});
    INFO(pulled.output);
    CHECK(pulled.exit_code == 1);
    CHECK(absl::StrContains(pulled.output, "linux/amd64, not linux/arm64"));
  }
  SECTION("unknown snapshotter") {
    auto pulled = env.Pull(env.Ref("busybox-tide:v1"), {"--snapshotter", "no-such-snapshotter"});
    INFO(pulled.output);
    CHECK(pulled.exit_code == 1);
    CHECK(absl::StrContains(pulled.output, "no-such-snapshotter"));
  }
  SECTION("containerd not there") {
    auto pulled = RunCommand({TidectlBinary(), "pull", "--address", (env.dir() / "nope.sock").string(),
                              "--plain-http", env.Ref("busybox-tide:v1")});
    INFO(pulled.output);
    CHECK(pulled.exit_code == 1);
    CHECK(absl::StrContains(pulled.output, "nope.sock"));
  }
  CHECK(env.Ctr({"images", "ls", "-q"}).output.empty());
  // Nothing a later GC would have to clean either: no lease, no snapshot.
  CHECK(env.Ctr({"leases", "ls", "-q"}).output.empty());
  CHECK(env.Ctr({"snapshots", "--snapshotter", "tide", "ls"}).output.find("sha256:") == std::string::npos);
}

TEST_CASE("tidectl pull from a registry that refuses the credentials", "[pull][e2e]") {
  PullEnvOptions options;
  options.registry_user = "alice";
  options.registry_password = "s3cret";
  PullEnv env(options);
  env.PushPlain("private:v1");
  const std::string ref = env.Ref("private:v1");

  auto wrong = env.Pull(ref, {"--user", "alice:wrong"});
  INFO(wrong.output);
  CHECK(wrong.exit_code == 1);
  CHECK(absl::StrContains(wrong.output, "rejected the credentials"));
  auto anonymous = env.Pull(ref);
  INFO(anonymous.output);
  CHECK(anonymous.exit_code == 1);
  CHECK(env.Ctr({"images", "ls", "-q"}).output.empty());
  CHECK(env.Ctr({"leases", "ls", "-q"}).output.empty());

  // The same pull with the right password works, so the refusal was about the credentials.
  auto right = env.Pull(ref, {"--user", "alice:s3cret"});
  INFO(right.output);
  CHECK(right.exit_code == 0);
  CHECK(SplitLines(env.Ctr({"images", "ls", "-q"}).output) == std::vector<std::string>{ref});
}

TEST_CASE("two concurrent tidectl pulls of the same image both succeed", "[pull][e2e]") {
  PullEnv env;
  env.PushPlain("busybox:v1");
  const std::string ref = env.Ref("busybox:v1");
  std::vector<std::string> argv = {TidectlBinary(), "pull", "--address", env.containerd().address(),
                                   "--plain-http",  ref};
  auto first = Subprocess::Start(
      argv, SubprocessOptions{.env = {}, .log_path = (env.dir() / "pull-1.log").string(), .cwd = ""});
  auto second = Subprocess::Start(
      argv, SubprocessOptions{.env = {}, .log_path = (env.dir() / "pull-2.log").string(), .cwd = ""});
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  int first_status = first->Wait(std::chrono::seconds(120));
  int second_status = second->Wait(std::chrono::seconds(120));
  INFO(ReadFile(env.dir() / "pull-1.log") << ReadFile(env.dir() / "pull-2.log"));
  CHECK(first_status == 0);
  CHECK(second_status == 0);
  CHECK(SplitLines(env.Ctr({"images", "ls", "-q"}).output) == std::vector<std::string>{ref});
  CheckImageContent(env, ref, "tide");
  auto run = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "pull-e2e-concurrent"});
  CHECK(run.output == "hello from tide\n");
  CheckRemovedByGc(env, ref);
}

TEST_CASE("tidectl pull of an image index picks the platform's manifest", "[pull][e2e]") {
  PullEnv env;
  env.PushTide("app:amd64");
  const std::string ref = env.Ref("app:multi");
  PushIndex(env, env.Ref("app:amd64"), ref);

  auto wrong = env.Pull(ref, {"--platform", "linux/arm64"});
  INFO(wrong.output);
  CHECK(wrong.exit_code == 1);
  CHECK(absl::StrContains(wrong.output, "no manifest for platform linux/arm64"));
  CHECK(env.Ctr({"images", "ls", "-q"}).output.empty());

  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  auto images = env.Ctr({"images", "ls"});
  INFO(images.output);
  CHECK(absl::StrContains(images.output, "application/vnd.oci.image.index.v1+json"));
  CHECK(absl::StrContains(images.output, "linux/amd64"));
  auto run = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "pull-e2e-index"});
  INFO(run.output);
  CHECK(run.output == "hello from tide\n");
  CheckRemovedByGc(env, ref);
}

}  // namespace
}  // namespace tide::testing
