#include "oci/oci_layout.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>
#include <vector>

#include "oci/media_types.h"
#include "test/support/temp_dir.h"

using tide::Digest;
using tide::oci::Descriptor;
using tide::oci::OciLayout;
namespace fs = std::filesystem;

namespace {

size_t CountEntries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("OciLayout creates a layout, stores verified blobs and tags atomically", "[oci][layout]") {
  tide::testing::TempDir tmp("oci-layout");
  fs::path dir = tmp / "img";
  CHECK_FALSE(OciLayout::Open(dir).ok());
  auto layout = OciLayout::OpenOrCreate(dir);
  REQUIRE(layout.ok());
  CHECK(fs::exists(dir / "oci-layout"));
  REQUIRE(layout->ReadIndex().ok());
  CHECK(layout->ReadIndex()->manifests.empty());

  auto d = layout->WriteBlob("manifest bytes");
  REQUIRE(d.ok());
  CHECK(*d == Digest::Of("manifest bytes"));
  CHECK(layout->HasBlob(*d));
  auto back = layout->ReadBlob(*d, 14);
  REQUIRE(back.ok());
  CHECK(*back == "manifest bytes");
  CHECK_FALSE(layout->ReadBlob(*d, 15).ok());
  CHECK(CountEntries(dir / "blobs") == 1);  // no temp files left behind

  Descriptor desc{std::string(tide::oci::kOciManifest), *d, 14, {}, std::nullopt, {}, ""};
  REQUIRE(layout->SetTag("v1", desc).ok());
  REQUIRE(layout->SetTag("v2", desc).ok());
  REQUIRE(layout->SetTag("v1", desc).ok());
  CHECK(layout->Tags() == std::vector<std::string>{"v2", "v1"});
  auto resolved = layout->Resolve("v1");
  REQUIRE(resolved.ok());
  CHECK(resolved->digest == *d);
  CHECK_FALSE(layout->Resolve("v3").ok());
  CHECK_FALSE(layout->Resolve("").ok());  // two entries: ambiguous

  Descriptor missing = desc;
  missing.digest = Digest::Of("never written");
  CHECK_FALSE(layout->SetTag("v4", missing).ok());
  CHECK(layout->Tags().size() == 2);
}

TEST_CASE("OciLayout detects a tampered blob", "[oci][layout]") {
  tide::testing::TempDir tmp("oci-layout");
  auto layout = OciLayout::OpenOrCreate(tmp / "img");
  REQUIRE(layout.ok());
  auto d = layout->WriteBlob("original");
  REQUIRE(d.ok());
  tide::testing::WriteFile(layout->BlobPath(*d), "tampered");
  auto read = layout->ReadBlob(*d);
  REQUIRE_FALSE(read.ok());
  CHECK(std::string(read.status().message()).find("fails verification") != std::string::npos);
  CHECK_FALSE(layout->ReadBlob(Digest::Of("absent")).ok());
}

TEST_CASE("BlobWriter streams, checks the expected digest and cleans up on failure", "[oci][layout]") {
  tide::testing::TempDir tmp("oci-layout");
  auto layout = OciLayout::OpenOrCreate(tmp / "img");
  REQUIRE(layout.ok());
  {
    auto w = layout->NewBlobWriter();
    REQUIRE(w.ok());
    REQUIRE(w->Write("abc").ok());
    REQUIRE(w->Write("def").ok());
    CHECK(w->size() == 6);
    auto wrong = w->Commit(Digest::Of("abcdeX"));
    REQUIRE_FALSE(wrong.ok());
    CHECK(std::string(wrong.status().message()).find("mismatch") != std::string::npos);
  }
  CHECK(CountEntries(tmp / "img" / "blobs") == 1);
  CHECK_FALSE(layout->HasBlob(Digest::Of("abcdef")));
  {
    auto w = layout->NewBlobWriter();
    REQUIRE(w.ok());
    REQUIRE(w->Write("partial").ok());
  }  // abandoned: temp file must go
  CHECK(CountEntries(tmp / "img" / "blobs") == 1);
  auto w = layout->NewBlobWriter();
  REQUIRE(w.ok());
  REQUIRE(w->Write("abcdef").ok());
  auto ok = w->Commit(Digest::Of("abcdef"));
  REQUIRE(ok.ok());
  CHECK(*layout->ReadBlob(*ok) == "abcdef");
}

TEST_CASE("concurrent SetTag calls lose no tag", "[oci][layout]") {
  tide::testing::TempDir tmp("oci-layout");
  auto layout = OciLayout::OpenOrCreate(tmp / "img");
  REQUIRE(layout.ok());
  auto d = layout->WriteBlob("m");
  REQUIRE(d.ok());
  Descriptor desc{std::string(tide::oci::kOciManifest), *d, 1, {}, std::nullopt, {}, ""};
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { results[i] = OciLayout(*layout).SetTag("t" + std::to_string(i), desc); });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : results) CHECK(s.ok());
  CHECK(layout->Tags().size() == 8);
}
