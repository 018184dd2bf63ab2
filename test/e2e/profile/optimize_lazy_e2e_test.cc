// A lazily pulled optimized image fetches each layer's startup set up front, in a few large range
// requests, instead of chunk by chunk as the workload reads.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "test/e2e/pull/pull_checks.h"
#include "test/e2e/pull/pull_env.h"

namespace tide::testing {
namespace {

// The top layer: the one holding /app.
std::string AppLayerDigest(PullEnv& env, const std::string& ref) {
  RegistryImage image = FetchRegistryImage(env, ref);
  REQUIRE(!image.manifest.layers.empty());
  return image.manifest.layers.back().digest.str();
}

TEST_CASE("optimized image: the startup set arrives in <= 3 range requests per layer", "[profile][lazy]") {
  PullEnv env;
  const std::string source = (env.dir() / "app").string();
  auto built = RunCommand(
      {std::string(std::getenv("TIDE_SOURCE_DIR")) + "/test/integration/profile/build-app-image.sh", source,
       "v1"});
  REQUIRE(built.exit_code == 0);
  const std::string ref = env.Ref("app:opt");
  // Small chunks: reading /app/a and /app/c on demand would take many requests per file.
  auto opt = RunCommand(
      {TidectlBinary(), "optimize", "-q", "--plain-http", "--chunk-size", "64K", "--ready-line", "READY",
       "--timeout", "30", "--work-dir", env.dir().string(), "oci:" + source + ":v1", "docker://" + ref},
      std::chrono::seconds(180));
  INFO(opt.output);
  REQUIRE(opt.exit_code == 0);
  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  REQUIRE(absl::StrContains(pulled.output, "lazy"));

  // The startup set was reserved at mount: whether its prefetch is done, still streaming, or not yet
  // sent, the workload's reads of it join it and make no requests of their own. The only GETs the
  // run may add are the startup set's own (<= 3), if the prefetch had not sent them yet.
  auto before = env.RegistryBlobGets();
  auto run = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "profile-lazy-run", "/bin/sh", "-c",
                      "cat /app/a /app/c > /dev/null; echo READY"});
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  CHECK(absl::StrContains(run.output, "READY"));
  auto after = env.RegistryBlobGets();
  const std::string app_layer = AppLayerDigest(env, ref);
  INFO("app layer " << app_layer);
  REQUIRE(before.contains(app_layer));
  CHECK(after[app_layer] - before[app_layer] <= 3);

  // Config and layer blobs alike: nothing is fetched chunk by chunk.
  int blobs_seen = 0;
  for (const auto& [digest, gets] : after) {
    ++blobs_seen;
    // One GET for the index at mount, then the startup set (prefetch may start during the pull).
    INFO(digest << ": " << gets << " blob GETs for pull and run");
    CHECK(gets <= 1 + 3);
  }
  CHECK(blobs_seen >= 5);  // config and four layer indexes
}

}  // namespace
}  // namespace tide::testing
