#include "oci/oci_layout.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "oci/manifest.h"
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

namespace {

// A minimal artifact manifest whose subject is `subject`, stored in the layout.
Descriptor StoreReferrer(OciLayout& layout, const Descriptor& subject, const std::string& note) {
  tide::oci::Manifest m;
  m.media_type = std::string(tide::oci::kOciManifest);
  m.artifact_type = "application/vnd.example.test";
  m.config.media_type = "application/vnd.oci.empty.v1+json";
  m.config.digest = Digest::Of("{}");
  m.config.size = 2;
  m.subject = subject;
  m.annotations["note"] = note;
  const std::string bytes = m.Serialize();
  auto digest = layout.WriteBlob(bytes);
  REQUIRE(digest.ok());
  Descriptor d;
  d.media_type = std::string(tide::oci::kOciManifest);
  d.artifact_type = m.artifact_type;
  d.digest = *digest;
  d.size = static_cast<int64_t>(bytes.size());
  return d;
}

}  // namespace

TEST_CASE("OciLayout lists referrers untagged, once per subject and type, and they are not images",
          "[oci][layout]") {
  tide::testing::TempDir tmp("oci-layout");
  auto layout = OciLayout::OpenOrCreate(tmp / "img");
  REQUIRE(layout.ok());
  Descriptor image;
  image.media_type = std::string(tide::oci::kOciManifest);
  image.digest = *layout->WriteBlob("image manifest");
  image.size = 14;
  REQUIRE(layout->SetTag("v1", image).ok());

  const Descriptor first = StoreReferrer(*layout, image, "first");
  REQUIRE(layout->AddReferrer(first, image.digest).ok());
  REQUIRE(layout->AddReferrer(first, image.digest).ok());
  auto listed = layout->Referrers(image.digest, first.artifact_type);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].digest == first.digest);
  CHECK(layout->Tags() == std::vector<std::string>{"v1"});
  CHECK(layout->Resolve("")->digest == image.digest);

  // A newer artifact of the same type for the same subject replaces the first in index.json.
  const Descriptor second = StoreReferrer(*layout, image, "second");
  REQUIRE(layout->AddReferrer(second, image.digest).ok());
  listed = layout->Referrers(image.digest, first.artifact_type);
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].digest == second.digest);
  CHECK(layout->HasBlob(first.digest));  // nothing stored is deleted
  CHECK(layout->ReadIndex()->manifests.size() == 2);

  // Another subject's referrers are not this one's; an entry without artifactType is refused.
  CHECK(layout->Referrers(Digest::Of("other"), first.artifact_type)->empty());
  Descriptor untyped = second;
  untyped.artifact_type.clear();
  CHECK_FALSE(layout->AddReferrer(untyped, image.digest).ok());
  Descriptor missing = second;
  missing.digest = Digest::Of("not stored");
  CHECK(absl::IsFailedPrecondition(layout->AddReferrer(missing, image.digest)));
}
