// `tidectl optimize`: startup sets from a recorded sandbox run and from a profile file end up first
// in the layer, in access order, exactly the chunks of the files read.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "format/blob_reader.h"
#include "format/byte_io.h"
#include "format/layer_index.h"
#include "oci/manifest.h"
#include "oci/oci_layout.h"
#include "profile/startup_profile.h"
#include "test/integration/profile/tidectl_runner.h"
#include "test/support/free_port.h"
#include "test/support/root_only.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

using namespace tide::testing;

namespace {

// build-app-image.sh; `tool` (a binary of this build) is added as /tool with a 48 MiB /app/model.
void BuildAppImage(const std::filesystem::path& layout, const std::string& command = "",
                   const std::string& tool = "") {
  std::vector<std::string> argv = {Env("TIDE_SOURCE_DIR") + "/test/integration/profile/build-app-image.sh",
                                   layout.string(), "v1"};
  if (!command.empty()) argv.push_back(command);
  if (!tool.empty()) argv.push_back(Env("TIDE_BINARY_DIR") + "/" + tool);
  auto r = RunCommand(argv, std::chrono::seconds(60));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
}

// The files of `layer` the profile reads, in first-access order (concurrent readahead may split one
// file's reads).
std::vector<std::string> FilesRead(const tide::profile::StartupProfile& prof, size_t layer) {
  std::vector<std::string> files;
  for (const auto& read : prof.reads) {
    if (read.layer == layer && std::find(files.begin(), files.end(), read.path) == files.end()) {
      files.push_back(read.path);
    }
  }
  return files;
}

// `tidectl optimize` of <tmp>/src:v1 into <tmp>/dst:opt until the workload prints READY; returns
// the recorded profile (kept as <tmp>/profile.txt).
tide::profile::StartupProfile OptimizeUntilReady(const TempDir& tmp) {
  auto r = Tidectl({"optimize", "-q", "--ready-line", "READY", "--timeout", "30", "--profile-out",
                    (tmp / "profile.txt").string(), "--work-dir", tmp.path().string(),
                    "oci:" + (tmp / "src").string() + ":v1", "oci:" + (tmp / "dst").string() + ":opt"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto prof = tide::profile::ReadProfileFile((tmp / "profile.txt").string());
  REQUIRE(prof.ok());
  return *std::move(prof);
}

struct Layer {
  tide::oci::Descriptor desc;
  tide::format::LayerIndex index;
};

std::vector<Layer> LoadLayers(const std::filesystem::path& dir, const std::string& tag) {
  auto layout = tide::oci::OciLayout::Open(dir);
  REQUIRE(layout.ok());
  auto root = layout->Resolve(tag);
  REQUIRE(root.ok());
  auto manifest = tide::oci::Manifest::Parse(*layout->ReadBlob(root->digest));
  REQUIRE(manifest.ok());
  std::vector<Layer> out;
  for (const auto& d : manifest->layers) {
    auto fd = layout->OpenBlob(d.digest);
    REQUIRE(fd.ok());
    tide::format::FdRangeReader reader(fd->get());
    auto index = tide::format::LoadIndexFromFooter(reader, static_cast<uint64_t>(d.size));
    INFO(index.status().ToString());
    REQUIRE(index.ok());
    out.push_back(Layer{d, std::move(*index)});
  }
  return out;
}

// Chunk ids of whole files, in the given order, each once.
std::vector<uint32_t> ChunksOf(const tide::format::LayerIndex& index, const std::vector<std::string>& paths) {
  std::vector<uint32_t> ids;
  for (const std::string& p : paths) {
    auto id = index.LookupPath(p);
    REQUIRE(id != tide::format::kNoEntry);
    auto range = index.ChunksFor(id, 0, index.attr(id).size);
    for (uint32_t c = range.first; c < range.first + range.count; ++c) {
      if (std::find(ids.begin(), ids.end(), c) == ids.end()) ids.push_back(c);
    }
  }
  return ids;
}

std::vector<uint32_t> StartupChunks(const tide::format::LayerIndex& index) {
  return {index.startup_chunks().begin(), index.startup_chunks().end()};
}

std::vector<uint32_t> StartupRanks(const tide::format::LayerIndex& index) {
  return {index.startup_ranks().begin(), index.startup_ranks().end()};
}

// The rank the index gives each of `file`'s chunks; all must agree (the file has chunks of its own).
uint32_t RankOf(const tide::format::LayerIndex& index, const std::string& file) {
  auto chunks = ChunksOf(index, {file});
  REQUIRE(!chunks.empty());
  REQUIRE(index.startup_ranks().size() == index.startup_chunks().size());
  std::vector<uint32_t> ranks;
  for (uint32_t c : chunks) {
    auto it = std::find(index.startup_chunks().begin(), index.startup_chunks().end(), c);
    REQUIRE(it != index.startup_chunks().end());
    ranks.push_back(index.startup_ranks()[static_cast<size_t>(it - index.startup_chunks().begin())]);
  }
  INFO(file);
  CHECK(std::all_of(ranks.begin(), ranks.end(), [&](uint32_t r) { return r == ranks.front(); }));
  return ranks.front();
}

}  // namespace

TEST_CASE("optimize --ready-line records the entrypoint's reads and puts them first", "[profile][optimize]") {
  SkipUnlessRootWithFuse();
  TempDir tmp("tide-optimize");
  BuildAppImage(tmp / "src");
  auto prof = OptimizeUntilReady(tmp);
  REQUIRE(prof.layers.size() == 4);
  CHECK(FilesRead(prof, 3) == std::vector<std::string>{"app/a", "app/c"});

  auto layers = LoadLayers(tmp / "dst", "opt");
  REQUIRE(layers.size() == 4);
  const auto& app = layers[3].index;
  CHECK(StartupChunks(app) == ChunksOf(app, {"app/a", "app/c"}));
  CHECK(app.startup_end_offset() > 0);
  // The shell itself was read from the first layer, so that layer has a startup set too.
  CHECK(!StartupChunks(layers[0].index).empty());
  // A layer the workload never read keeps its order and has none.
  CHECK(StartupChunks(layers[1].index).empty());
}

TEST_CASE("optimize --ready-port ends when the entrypoint listens and records its reads",
          "[profile][optimize][ready-port]") {
  SkipUnlessRootWithFuse();
  TempDir tmp("tide-optimize");
  const int port = FreeLoopbackPort();
  // Reads a and c, then serves; tidectl probes the port inside the sandbox's network namespace.
  BuildAppImage(tmp / "src",
                "cat /app/a /app/c > /dev/null; exec /bin/busybox nc -l -p " + std::to_string(port));
  auto started = std::chrono::steady_clock::now();
  auto r = Tidectl({"optimize", "--ready-port", std::to_string(port), "--timeout", "60", "--profile-out",
                    (tmp / "profile.txt").string(), "--work-dir", tmp.path().string(),
                    "oci:" + (tmp / "src").string() + ":v1", "oci:" + (tmp / "dst").string() + ":opt"});
  auto took = std::chrono::steady_clock::now() - started;
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  // Ended on the port: neither the timeout nor the workload's exit (both warn).
  CHECK(r.output.find("warning: workload") == std::string::npos);
  CHECK(took < std::chrono::seconds(45));
  auto prof = tide::profile::ReadProfileFile((tmp / "profile.txt").string());
  REQUIRE(prof.ok());
  CHECK(FilesRead(*prof, 3) == std::vector<std::string>{"app/a", "app/c"});
  auto layers = LoadLayers(tmp / "dst", "opt");
  REQUIRE(layers.size() == 4);
  CHECK(StartupChunks(layers[3].index) == ChunksOf(layers[3].index, {"app/a", "app/c"}));

  // The control: nothing listens on this port, so the run ends at the timeout with a warning.
  auto idle = Tidectl({"optimize", "--ready-port", std::to_string(FreeLoopbackPort()), "--timeout", "2",
                       "--run", "sleep 30", "--work-dir", tmp.path().string(),
                       "oci:" + (tmp / "src").string() + ":v1", "oci:" + (tmp / "dst").string() + ":idle"});
  INFO(idle.output);
  CHECK(idle.exit_code == 0);
  CHECK(idle.output.find("warning: workload timed out before it was ready") != std::string::npos);

  // The port is probed inside the workload's private network namespace: a host listener on it is
  // neither seen nor reached, so the run ends at the timeout.
  auto busy = ListenOnLoopback(4);
  REQUIRE(busy.ok());
  const std::string busy_port = std::to_string(busy->port);
  auto hidden = Tidectl({"optimize", "--ready-port", busy_port, "--timeout", "2", "--run", "sleep 30",
                         "--work-dir", tmp.path().string(), "oci:" + (tmp / "src").string() + ":v1",
                         "oci:" + (tmp / "dst").string() + ":hidden"});
  INFO(hidden.output);
  CHECK(hidden.exit_code == 0);
  CHECK(hidden.output.find("warning: workload timed out before it was ready") != std::string::npos);

  // On the host's network a port that already accepts would end the run at once: refused.
  auto taken = Tidectl({"optimize", "--network", "host", "--ready-port", busy_port, "--timeout", "30",
                        "--work-dir", tmp.path().string(), "oci:" + (tmp / "src").string() + ":v1",
                        "oci:" + (tmp / "dst").string() + ":taken"});
  INFO(taken.output);
  CHECK(taken.exit_code != 0);
  CHECK(taken.output.find("ready port " + busy_port + " already accepts connections") != std::string::npos);
}

TEST_CASE("optimize records the access order across layers in startup_ranks", "[profile][optimize]") {
  SkipUnlessRootWithFuse();
  TempDir tmp("tide-optimize");
  // app/c (layer 3), then data/random.bin (layer 1), then app/a (layer 3).
  BuildAppImage(tmp / "src",
                "cat /app/c > /dev/null; cat /data/random.bin > /dev/null; cat /app/a > /dev/null; "
                "echo READY; sleep 60");
  auto prof = OptimizeUntilReady(tmp);
  // The profile keeps the interleaving: layer 3, layer 1, layer 3.
  std::vector<std::string> order;
  for (const auto& read : prof.reads) {
    if ((read.layer == 3 || read.path == "data/random.bin") &&
        std::find(order.begin(), order.end(), read.path) == order.end()) {
      order.push_back(read.path);
    }
  }
  CHECK(order == std::vector<std::string>{"app/c", "data/random.bin", "app/a"});

  auto layers = LoadLayers(tmp / "dst", "opt");
  REQUIRE(layers.size() == 4);
  const auto& app = layers[3].index;
  const auto& data = layers[1].index;
  CHECK(StartupChunks(app) == ChunksOf(app, {"app/c", "app/a"}));
  CHECK(StartupChunks(data) == ChunksOf(data, {"data/random.bin"}));
  uint32_t c = RankOf(app, "app/c");
  uint32_t random = RankOf(data, "data/random.bin");
  uint32_t a = RankOf(app, "app/a");
  CHECK(c < random);
  CHECK(random < a);
  // The shell (layer 0) started before it read anything of /app.
  REQUIRE(!StartupRanks(layers[0].index).empty());
  CHECK(*std::min_element(layers[0].index.startup_ranks().begin(), layers[0].index.startup_ranks().end()) <
        c);
  CHECK(StartupRanks(layers[2].index).empty());
}

TEST_CASE("optimize --profile applies a profile file in its order", "[profile][optimize]") {
  TempDir tmp("tide-optimize");
  BuildAppImage(tmp / "src");
  auto conv = Tidectl(
      {"convert", "-q", "oci:" + (tmp / "src").string() + ":v1", "oci:" + (tmp / "plain").string() + ":v1"});
  REQUIRE(conv.exit_code == 0);
  auto plain = LoadLayers(tmp / "plain", "v1");
  REQUIRE(plain.size() == 4);
  auto layout = tide::oci::OciLayout::Open(tmp / "src");
  REQUIRE(layout.ok());
  auto root = layout->Resolve("v1");
  REQUIRE(root.ok());
  auto manifest = tide::oci::Manifest::Parse(*layout->ReadBlob(root->digest));
  REQUIRE(manifest.ok());
  // Profile names the source layer by its blob digest: c is read first, then the second half of a.
  std::string text = "tide-profile 1\nlayer 0 " + manifest->layers[3].digest.str() +
                     "\nread 0 0 700000 app/c\nread 0 400000 300000 app/a\n";
  WriteFile(tmp / "p.txt", text);
  auto r = Tidectl({"optimize", "-q", "--profile", (tmp / "p.txt").string(),
                    "oci:" + (tmp / "src").string() + ":v1", "oci:" + (tmp / "dst").string() + ":opt"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto layers = LoadLayers(tmp / "dst", "opt");
  const auto& app = layers[3].index;
  std::vector<uint32_t> want = ChunksOf(app, {"app/c"});
  auto a = app.LookupPath("app/a");
  auto tail = app.ChunksFor(a, 400000, 300000);
  for (uint32_t c = tail.first; c < tail.first + tail.count; ++c) want.push_back(c);
  CHECK(StartupChunks(app) == want);
  // Ranks are the profile's read numbers: app/c's chunks 0, the tail of app/a 1.
  std::vector<uint32_t> want_ranks(ChunksOf(app, {"app/c"}).size(), 0);
  want_ranks.resize(want.size(), 1);
  CHECK(StartupRanks(app) == want_ranks);
  CHECK(StartupChunks(layers[0].index).empty());

  WriteFile(tmp / "bad.txt", "tide-profile 1\nread 0 0 10 app/a\n");
  auto bad = Tidectl({"optimize", "-q", "--profile", (tmp / "bad.txt").string(),
                      "oci:" + (tmp / "src").string() + ":v1", "oci:" + (tmp / "dst").string() + ":bad"});
  CHECK(bad.exit_code != 0);
  CHECK(bad.output.find("bad.txt:2: read names layer 0, which is not declared") != std::string::npos);
}

namespace {

// `tidectl optimize` of an image whose entrypoint maps a 48 MiB file and touches 8 of its pages
// (mmap_touch);
// returns the uncompressed bytes of the model's startup chunks and checks each touched page is in one.
uint64_t ModelStartupBytes(const TempDir& tmp, const std::string& tag, const std::string& record_readahead) {
  auto r = Tidectl({"optimize", "-q", "--ready-line", "READY", "--timeout", "60", "--record-readahead",
                    record_readahead, "--profile-out", (tmp / (tag + ".profile")).string(), "--work-dir",
                    tmp.path().string(), "oci:" + (tmp / "src").string() + ":v1",
                    "oci:" + (tmp / "dst").string() + ":" + tag});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("startup set: ") != std::string::npos);
  auto layers = LoadLayers(tmp / "dst", tag);
  REQUIRE(layers.size() == 4);
  const auto& app = layers[3].index;
  auto model = app.LookupPath("app/model");
  REQUIRE(model != tide::format::kNoEntry);
  const uint64_t size = app.attr(model).size;
  auto startup = StartupChunks(app);
  auto first = app.attr(model).first_chunk;
  uint64_t bytes = 0;
  for (uint32_t c : startup) {
    if (c >= first && c < first + app.attr(model).chunk_count) bytes += app.chunk(c).uncompressed_size;
  }
  for (uint64_t i = 0; i < 8; ++i) {
    const uint64_t page = size / 4096 * i / 8;
    auto touched = app.ChunksFor(model, page * 4096 + 100, 1);
    INFO("page " << page);
    CHECK(std::find(startup.begin(), startup.end(), touched.first) != startup.end());
  }
  return bytes;
}

}  // namespace

TEST_CASE("optimize records the pages a program maps and touches, not the whole file",
          "[profile][optimize][ranges]") {
  SkipUnlessRootWithFuse();
  TempDir tmp("tide-optimize");
  BuildAppImage(tmp / "src", "/tool /app/model 8 && echo READY; sleep 60",
                "test/integration/profile/mmap_touch");
  // Each page fault reads the kernel's read-around window (128 KiB by default) and no more: 8 windows
  // of a 48 MiB file.
  const uint64_t fine = ModelStartupBytes(tmp, "fine", "128");
  CHECK(fine >= 8 * 4096);
  CHECK(fine <= 8 * (256 << 10));
  // The recorded window decides the set: with 1 MiB read-around each touch costs about 1 MiB.
  const uint64_t coarse = ModelStartupBytes(tmp, "coarse", "1024");
  CHECK(coarse > 2 * fine);
  CHECK(coarse < (48 << 20) / 2);
}
