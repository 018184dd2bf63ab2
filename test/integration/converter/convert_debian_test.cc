#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <thread>

#include "oci/oci_layout.h"
#include "test/integration/converter/roundtrip_check.h"
#include "test/support/subprocess.h"
#include "test/support/temp_dir.h"

using namespace tide::testing;

// The realistic image: a Debian 12 root filesystem (mmdebstrap) in gzip, zstd and plain layers
// plus the edge-case layer.
TEST_CASE("Debian root filesystem image converts losslessly", "[converter][roundtrip][debian]") {
  TempDir out("tide-convert");
  std::string dst = (out / "layout").string();
  auto r = Tidectl({"convert", "oci:" + TestImagesDir() + "/debian:bookworm", "oci:" + dst + ":tide"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(CheckRoundTrip(TestImagesDir() + "/debian", "bookworm", dst, "tide") == 4);
}

TEST_CASE("an interrupted conversion exits 130 and leaves no tag and no temp files",
          "[converter][interrupt]") {
  TempDir out("tide-convert");
  std::filesystem::path dst = out / "layout";
  // An existing layout, so the conversion writes into it where this test can watch (a new one is
  // built in a hidden sibling that only appears at dst when finished).
  REQUIRE(tide::oci::OciLayout::OpenOrCreate(dst).ok());
  // Level 19 keeps the conversion busy long enough to interrupt it mid-layer.
  auto proc =
      Subprocess::Start({TidectlPath(), "convert", "--zstd-level", "19",
                         "oci:" + TestImagesDir() + "/debian:bookworm", "oci:" + dst.string() + ":tide"},
                        SubprocessOptions{{}, (out / "log").string(), ""});
  REQUIRE(proc.ok());
  auto temp_blobs = [&] {
    size_t n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dst / "blobs", ec)) {
      if (e.path().filename().string().rfind(".tmp-blob", 0) == 0) ++n;
    }
    return n;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (temp_blobs() == 0 && proc->Running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(proc->Running());
  REQUIRE(temp_blobs() > 0);
  int status = proc->Stop(SIGINT, std::chrono::seconds(60));
  INFO(ReadFile(out / "log"));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  CHECK(ReadFile(out / "log").find("interrupted") != std::string::npos);
  CHECK(temp_blobs() == 0);
  auto layout = tide::oci::OciLayout::Open(dst);
  REQUIRE(layout.ok());
  CHECK(layout->Tags().empty());
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(out.path())) ++entries;
  CHECK(entries == 2);  // layout and log, nothing staged beside them
}
