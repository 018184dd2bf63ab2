// Learned prefetch through containerd: the first run of an unoptimized image records what it reads
// and tide-snapshotter keeps it as a profile; a cold node with that profile but an empty chunk cache
// fetches those chunks right after the pull, in a few large requests, before the workload asks.
// The same holds for layers that a restarted snapshotter re-mounts (Restore).
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "profile/startup_profile.h"
#include "test/e2e/pull/pull_checks.h"
#include "test/e2e/pull/pull_env.h"

namespace tide::testing {
namespace {

namespace fs = std::filesystem;

void BuildAppImage(const fs::path& layout) {
  auto built = RunCommand(
      {std::string(std::getenv("TIDE_SOURCE_DIR")) + "/test/integration/profile/build-app-image.sh",
       layout.string(), "v1"});
  INFO(built.output);
  REQUIRE(built.exit_code == 0);
}

// Small chunks and no startup set: reading /app/a and /app/c on demand takes many requests.
void ConvertInto(const fs::path& source, const std::string& ref) {
  auto conv = RunCommand({TidectlBinary(), "convert", "-q", "--plain-http", "--chunk-size", "64K",
                          "oci:" + source.string() + ":v1", "docker://" + ref},
                         std::chrono::seconds(180));
  INFO(conv.output);
  REQUIRE(conv.exit_code == 0);
}

int GetsOf(const PullEnv& env, const std::string& digest) {
  auto gets = env.RegistryBlobGets();
  auto it = gets.find(digest);
  return it == gets.end() ? 0 : it->second;
}

// The GET count of `digest` once it reached `at_least` and the registry then served none of it for
// 2 s (prefetch is over); whatever it is after 30 s otherwise.
int SettledGets(const PullEnv& env, const std::string& digest, int at_least) {
  using namespace std::chrono;
  int last = GetsOf(env, digest);
  auto changed = steady_clock::now();
  for (auto deadline = changed + seconds(30); steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(milliseconds(250));
    int now = GetsOf(env, digest);
    if (now != last) {
      last = now;
      changed = steady_clock::now();
    } else if (last >= at_least && steady_clock::now() - changed > seconds(2)) {
      break;
    }
  }
  return last;
}

// The keeper writes a profile 3 s after a layer's last read.
bool WaitForFile(const fs::path& path) {
  for (int i = 0; i < 150 && !fs::exists(path); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return fs::exists(path);
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// ctr run of the entrypoint's reads; retried while containerd reconnects to a restarted proxy.
CommandResult RunApp(PullEnv& env, const std::string& ref, const std::string& name,
                     const std::string& script = "cat /app/a /app/c > /dev/null; echo READY") {
  CommandResult run;
  for (int attempt = 0; attempt < 10; ++attempt) {
    run = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, name + "-" + std::to_string(attempt),
                   "/bin/sh", "-c", script});
    if (run.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return run;
}

}  // namespace

TEST_CASE("learned prefetch: a cold node with a kept profile fetches the startup reads right after the pull",
          "[profile][learned]") {
  PullEnv first;
  BuildAppImage(first.dir() / "app");
  const std::string ref = first.Ref("app:plain");
  ConvertInto(first.dir() / "app", ref);
  const std::string app = FetchRegistryImage(first, ref).manifest.layers.back().digest.str();

  // First node: no profile, the run reads /app/a and /app/c chunk by chunk and is recorded.
  auto pulled = first.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  REQUIRE(absl::StrContains(pulled.output, "lazy"));
  const int at_mount = SettledGets(first, app, 0);  // the index (no startup set: nothing else)
  auto run = RunApp(first, ref, "learned-first");
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  const int on_demand = GetsOf(first, app) - at_mount;
  INFO("first run: " << at_mount << " GETs at mount, " << on_demand << " on demand");
  // The control: the workload had to wait for fetches of its own (the kernel's 1 MB readahead
  // merges a file's chunks into one or two requests, so "many" is not the point here).
  CHECK(on_demand >= 2);
  const fs::path profile = first.tide_root() / "profiles" / (app.substr(7) + ".profile");
  REQUIRE(WaitForFile(profile));
  const std::string kept = ReadAll(profile);
  CHECK(absl::StrContains(kept, " app/a\n"));
  CHECK(absl::StrContains(kept, " app/c\n"));

  // Second node, same registry: kept profiles, empty chunk cache, empty containerd.
  PullEnvOptions cold;
  cold.seed_profiles = first.tide_root() / "profiles";
  PullEnv second(cold);
  const int before = GetsOf(first, app);
  auto again = second.Pull(ref);
  INFO(again.output);
  REQUIRE(again.exit_code == 0);
  REQUIRE(absl::StrContains(again.output, "lazy"));
  const int up_front = SettledGets(first, app, before + at_mount + 1) - before;
  INFO("cold node: " << up_front << " GETs after the pull, before any run");
  CHECK(up_front > at_mount);       // something besides the index came: the learned chunks
  CHECK(up_front <= at_mount + 3);  // in a few large ranges
  const int before_run = GetsOf(first, app);
  auto second_run = RunApp(second, ref, "learned-second");
  INFO(second_run.output);
  REQUIRE(second_run.exit_code == 0);
  CHECK(absl::StrContains(second_run.output, "READY"));
  CHECK(GetsOf(first, app) == before_run);  // the workload found every chunk it read in the cache
}

TEST_CASE("learned prefetch: layers restored after a snapshotter restart record and prefetch too",
          "[profile][learned][restart]") {
  PullEnv env;
  BuildAppImage(env.dir() / "app");
  const std::string ref = env.Ref("app:plain");
  ConvertInto(env.dir() / "app", ref);
  const std::string app = FetchRegistryImage(env, ref).manifest.layers.back().digest.str();
  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  REQUIRE(absl::StrContains(pulled.output, "lazy"));

  // The first run happens on a restored mount: it must be recorded there.
  env.KillAndRestartSnapshotter();
  auto run = RunApp(env, ref, "restored-first");
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  const fs::path profile = env.tide_root() / "profiles" / (app.substr(7) + ".profile");
  REQUIRE(WaitForFile(profile));
  CHECK(absl::StrContains(ReadAll(profile), " app/a\n"));

  // Restart on an empty chunk cache: the restored mount prefetches the learned chunks.
  const int before = GetsOf(env, app);
  env.KillAndRestartSnapshotter([&] { fs::remove_all(env.tide_root() / "cache"); });
  const int up_front = SettledGets(env, app, before + 2) - before;  // index and a range
  INFO("restored on a cold cache: " << up_front << " GETs before any run");
  CHECK(up_front >= 2);  // not just the index
  CHECK(up_front <= 1 + 3);
  const int before_run = GetsOf(env, app);
  auto second = RunApp(env, ref, "restored-second");
  INFO(second.output);
  REQUIRE(second.exit_code == 0);
  CHECK(GetsOf(env, app) == before_run);
}

TEST_CASE("profile export merges the layers' learned reads in the order they happened",
          "[profile][learned][export]") {
  PullEnv env;
  BuildAppImage(env.dir() / "app");
  const std::string ref = env.Ref("app:plain");
  ConvertInto(env.dir() / "app", ref);
  const auto layers = FetchRegistryImage(env, ref).manifest.layers;
  REQUIRE(layers.size() == 4);
  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  // Interleaved across layers: app/c (layer 3), data/random.bin (layer 1), app/a (layer 3).
  auto run = RunApp(env, ref, "export-order",
                    "cat /app/c > /dev/null; cat /data/random.bin > /dev/null; cat /app/a > /dev/null");
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  const fs::path dir = env.tide_root() / "profiles";
  for (size_t i : {size_t{1}, size_t{3}}) {
    const std::string hex(layers[i].digest.hex());
    REQUIRE(WaitForFile(dir / (hex + ".profile")));
    CHECK(fs::exists(dir / (hex + ".order")));
  }
  const fs::path out = env.dir() / "exported.profile";
  auto exported = RunCommand({TidectlBinary(), "profile", "export", "--plain-http", "--root",
                              env.tide_root().string(), "-o", out.string(), "docker://" + ref});
  INFO(exported.output);
  REQUIRE(exported.exit_code == 0);
  auto prof = profile::ReadProfileFile(out.string());
  REQUIRE(prof.ok());
  std::vector<std::string> order;
  for (const profile::ProfileRead& r : prof->reads) {
    const bool watched = r.path == "app/a" || r.path == "app/c" || r.path == "data/random.bin";
    if (watched && std::find(order.begin(), order.end(), r.path) == order.end()) order.push_back(r.path);
  }
  // Layer by layer (bottom first) would give data/random.bin, app/c, app/a.
  CHECK(order == std::vector<std::string>{"app/c", "data/random.bin", "app/a"});
}

}  // namespace tide::testing
