// `tidectl warm` and `tidectl cache ls` against the real tide-snapshotter, docker-registry and
// containerd: a warmed node starts the image with the registry gone, pins survive a restart, and
// an unpinned image is what eviction takes.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "test/e2e/pull/pull_checks.h"
#include "test/e2e/pull/pull_env.h"

namespace tide::testing {
namespace {

CommandResult Warm(PullEnv& env, const std::string& ref, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {TidectlBinary(), "warm", "--address", env.tide_socket()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(ref);
  return RunCommand(argv, std::chrono::seconds(120));
}

nlohmann::json CacheList(PullEnv& env) {
  auto listed = RunCommand({TidectlBinary(), "cache", "ls", "--json", "--address", env.tide_socket()});
  INFO(listed.output);
  REQUIRE(listed.exit_code == 0);
  auto doc = nlohmann::json::parse(listed.output, nullptr, false);
  REQUIRE(doc.is_object());
  return doc;
}

const nlohmann::json* FindImage(const nlohmann::json& list, const std::string& ref) {
  for (const auto& image : list["images"]) {
    if (image["reference"] == ref) return &image;
  }
  return nullptr;
}

// Uint64 fields come as JSON strings from protobuf's JSON mapping.
uint64_t Field(const nlohmann::json& object, const char* key) {
  const nlohmann::json& v = object.at(key);
  return v.is_string() ? std::stoull(v.get<std::string>()) : v.get<uint64_t>();
}

TEST_CASE("WARM: a warmed node pulls and starts the image with no request for the warmed bytes",
          "[warm][e2e]") {
  PullEnv env;
  env.PushTide("busybox-tide:v1");
  const std::string ref = env.Ref("busybox-tide:v1");
  RegistryImage image = FetchRegistryImage(env, ref);

  // The default is the startup set; this image was converted, not optimized, so it has none.
  auto startup = Warm(env, ref);
  INFO(startup.output);
  REQUIRE(startup.exit_code == 0);
  CHECK(absl::StrContains(startup.output, "skipped: no startup set"));
  CHECK(absl::StrContains(startup.output, "nothing to warm"));

  // Nothing to warm lazily in a gzip image: every layer says why; a missing image is an error naming it.
  env.PushPlain("busybox-gzip:v1");
  auto plain = Warm(env, env.Ref("busybox-gzip:v1"), {"--all"});
  INFO(plain.output);
  REQUIRE(plain.exit_code == 0);
  CHECK(absl::StrContains(plain.output, "skipped: not a tide layer"));
  CHECK(FindImage(CacheList(env), env.Ref("busybox-gzip:v1")) == nullptr);  // nothing to pin
  auto missing = Warm(env, env.Ref("no-such-image:v1"));
  INFO(missing.output);
  CHECK(missing.exit_code != 0);
  CHECK(absl::StrContains(missing.output, "no-such-image"));
  auto no_daemon =
      RunCommand({TidectlBinary(), "warm", "--address", (env.dir() / "nothing.sock").string(), ref});
  INFO(no_daemon.output);
  CHECK(no_daemon.exit_code != 0);
  CHECK(absl::StrContains(no_daemon.output, "cannot reach tide-snapshotter"));

  auto warmed = Warm(env, ref, {"--all"});
  INFO(warmed.output);
  REQUIRE(warmed.exit_code == 0);
  CHECK(absl::StrContains(warmed.output, "warmed " + ref));
  CHECK(absl::StrContains(warmed.output, "100%"));
  const int64_t after_warm = env.RegistryBlobBytes();
  // Idempotent: warming again fetches nothing.
  auto again = Warm(env, ref, {"--all"});
  INFO(again.output);
  REQUIRE(again.exit_code == 0);
  CHECK(absl::StrContains(again.output, "0 B fetched from the registry"));
  CHECK(env.RegistryBlobBytes() == after_warm);

  nlohmann::json list = CacheList(env);
  const nlohmann::json* entry = FindImage(list, ref);
  REQUIRE(entry != nullptr);
  CHECK((*entry)["pinned"] == true);
  CHECK((*entry)["mode"] == "all");
  CHECK((*entry)["manifest"] == image.manifest_digest.str());
  REQUIRE((*entry)["layers"].size() == 3);
  for (const auto& layer : (*entry)["layers"]) {
    CHECK(Field(layer, "bytes") > 0);
    CHECK(Field(layer, "bytes_cached") == Field(layer, "bytes"));
    CHECK(Field(layer, "pinned_bytes_cached") == Field(layer, "bytes"));
  }
  auto text = RunCommand({TidectlBinary(), "cache", "ls", "--address", env.tide_socket()});
  INFO(text.output);
  CHECK(absl::StrContains(text.output, ref + "  pinned (all)"));

  // The pull reads only the config from the registry: the layers' indexes are in the cache.
  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "(3 lazy, 0 applied, 0 present)"));
  CHECK(env.RegistryBlobBytes() - after_warm <= image.manifest.config.size);

  // A cold start with the registry gone: every byte comes from the warmed cache.
  env.registry().Stop();
  auto run = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, "warm-run", "sha256sum",
                      "/data/random.bin", "/bin/busybox", "/data/third.txt"});
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  CHECK(absl::StrContains(run.output, LayoutFileSha(env.Layout()) + "  /data/random.bin"));
  auto busybox = RunCommand({"sh", "-c", "sha256sum /bin/busybox | cut -d' ' -f1"});
  CHECK(absl::StrContains(run.output, busybox.output.substr(0, 64) + "  /bin/busybox"));
}

TEST_CASE("WARM: pins survive a restart, and eviction takes the unpinned image, not the pinned one",
          "[warm][e2e]") {
  PullEnvOptions options;
  // Each image is ~5 MB (busybox shared, 3 MB of random data each): two pinned images fit, three
  // cached images do not.
  options.tide_config = "cache_max_bytes = \"10MiB\"\n";
  PullEnv env(options);
  env.PushTide("a:v1");
  env.PushOtherTide("b:v1");
  env.PushOtherTide("c:v1");
  const std::string a = env.Ref("a:v1"), b = env.Ref("b:v1"), c = env.Ref("c:v1");

  auto warmed_a = Warm(env, a, {"--all"});
  INFO(warmed_a.output);
  REQUIRE(warmed_a.exit_code == 0);
  auto warmed_b = Warm(env, b, {"--all"});
  INFO(warmed_b.output);
  REQUIRE(warmed_b.exit_code == 0);
  auto unpinned = Warm(env, b, {"--unpin"});
  INFO(unpinned.output);
  REQUIRE(unpinned.exit_code == 0);
  CHECK(Warm(env, b, {"--unpin"}).exit_code != 0);  // not pinned any more: an error, said plainly

  env.StopAndRestartSnapshotter();
  nlohmann::json list = CacheList(env);
  REQUIRE(FindImage(list, a) != nullptr);
  CHECK((*FindImage(list, a))["pinned"] == true);
  CHECK(FindImage(list, b) == nullptr);

  // Cache pressure: c does not fit beside a and b, and only b may give way.
  auto warmed_c = Warm(env, c, {"--all"});
  INFO(warmed_c.output);
  REQUIRE(warmed_c.exit_code == 0);
  list = CacheList(env);
  INFO(list.dump(2));
  CHECK(Field(list, "used_bytes") <= (10u << 20));
  for (const std::string& pinned : {a, c}) {
    const nlohmann::json* entry = FindImage(list, pinned);
    REQUIRE(entry != nullptr);
    for (const auto& layer : (*entry)["layers"]) CHECK(Field(layer, "bytes_cached") == Field(layer, "bytes"));
  }
  // A pinned image is never fetched again; the unpinned one was evicted, so it is.
  auto rewarm_a = Warm(env, a, {"--all"});
  INFO(rewarm_a.output);
  CHECK(absl::StrContains(rewarm_a.output, "0 B fetched from the registry"));
  // Pinning b again beside a and c would not leave room for containers: refused, naming the limit.
  auto too_much = Warm(env, b, {"--all"});
  INFO(too_much.output);
  CHECK(too_much.exit_code != 0);
  CHECK(absl::StrContains(too_much.output, "cache_max_bytes"));
  REQUIRE(Warm(env, c, {"--unpin"}).exit_code == 0);
  auto rewarm_b = Warm(env, b, {"--all"});
  INFO(rewarm_b.output);
  REQUIRE(rewarm_b.exit_code == 0);
  CHECK_FALSE(absl::StrContains(rewarm_b.output, "0 B fetched from the registry"));
}

}  // namespace
}  // namespace tide::testing
