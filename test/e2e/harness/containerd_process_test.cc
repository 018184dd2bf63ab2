#include "test/support/containerd_process.h"

#include <catch2/catch.hpp>

#include "test/support/registry_process.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

// The harness end to end: a locally built image is pushed to a private registry, pulled by a private
// containerd onto overlayfs and run.
TEST_CASE("private containerd pulls from a private registry and runs a container", "[support][e2e]") {
  using namespace tide::testing;
  TempDir work("tide-harness");
  std::string layout = (work / "layout").string();
  auto build = RunCommand(
      {std::string(getenv("TIDE_SOURCE_DIR")) + "/test/support/images/build-busybox-image.sh", layout, "v1"});
  REQUIRE(build.exit_code == 0);
  auto registry = RegistryProcess::Start();
  REQUIRE(registry.ok());
  std::string ref = (*registry)->host() + "/test/busybox:v1";
  auto push =
      RunCommand({"skopeo", "copy", "--dest-tls-verify=false", "oci:" + layout + ":v1", "docker://" + ref});
  REQUIRE(push.exit_code == 0);
  auto containerd = ContainerdProcess::Start();
  REQUIRE(containerd.ok());
  auto pull = (*containerd)->Ctr({"images", "pull", "--plain-http", ref});
  INFO(pull.output);
  REQUIRE(pull.exit_code == 0);
  auto run = (*containerd)->Ctr({"run", "--rm", ref, "harness-test"});
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  CHECK(run.output.find("hello from tide") != std::string::npos);
}
