#include "snapshotter/restore_labels.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace tide::snapshotter {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'c');

TEST_CASE("restore labels: a resolved side index survives the round trip", "[snapshotter][restore]") {
  RestoredSideIndex index{.digest = *Digest::Parse(kDigest), .size = 4096, .blob_size = 123456789};
  Labels labels = {{kTideRestoreSideIndexLabel, FormatRestoredSideIndex(index)}};
  auto parsed = ParseRestoredSideIndex(labels);
  REQUIRE(parsed.ok());
  CHECK(parsed->digest == index.digest);
  CHECK(parsed->size == 4096);
  CHECK(parsed->blob_size == 123456789);
  CHECK(absl::IsNotFound(ParseRestoredSideIndex({}).status()));
}

TEST_CASE("restore labels: malformed or unbounded values are refused, naming the label",
          "[snapshotter][restore][security]") {
  for (const std::string& bad : std::vector<std::string>{
           std::string(""), kDigest, kDigest + " 10", kDigest + " 10 20 30", std::string("sha256:zz 10 20"),
           kDigest + " 0 20", kDigest + " 10 0", kDigest + " 268435457 20", kDigest + " 10 17592186044417",
           kDigest + " -1 20", kDigest + " 10 99999999999999999999999"}) {
    INFO(bad);
    auto parsed = ParseRestoredSideIndex({{kTideRestoreSideIndexLabel, bad}});
    REQUIRE(absl::IsInvalidArgument(parsed.status()));
    CHECK(parsed.status().message().find(kTideRestoreSideIndexLabel) != absl::string_view::npos);
  }
}

TEST_CASE("restore labels: where a stargz TOC lies survives the round trip", "[snapshotter][restore]") {
  for (format::LayerFormat fmt : {format::LayerFormat::kEstargz, format::LayerFormat::kZstdChunked}) {
    RestoredStargzToc toc{.format = fmt, .toc_offset = 98765, .blob_size = 123456789};
    auto parsed = ParseRestoredStargzToc({{kTideRestoreStargzTocLabel, FormatRestoredStargzToc(toc)}});
    REQUIRE(parsed.ok());
    CHECK(parsed->format == fmt);
    CHECK(parsed->toc_offset == 98765);
    CHECK(parsed->blob_size == 123456789);
  }
  CHECK(absl::IsNotFound(ParseRestoredStargzToc({}).status()));
}

TEST_CASE("restore labels: a malformed or unbounded stargz TOC location is refused, naming the label",
          "[snapshotter][restore][security]") {
  for (const std::string& bad : std::vector<std::string>{
           "", "estargz", "estargz 10", "estargz 10 20 30", "gzip 10 20", "tide 10 20", "estargz 20 20",
           "estargz 30 20", "zstd:chunked 10 0", "estargz 10 17592186044417", "estargz -1 20",
           "estargz 99999999999999999999999 20", "estargz  10 20", "ESTARGZ 10 20"}) {
    INFO(bad);
    auto parsed = ParseRestoredStargzToc({{kTideRestoreStargzTocLabel, bad}});
    REQUIRE(absl::IsInvalidArgument(parsed.status()));
    CHECK(parsed.status().message().find(kTideRestoreStargzTocLabel) != absl::string_view::npos);
  }
}

TEST_CASE("restore labels: a blob size is bounded, naming the label", "[snapshotter][restore][security]") {
  CHECK(ParseRestoredBlobSize({{kTideRestoreBlobSizeLabel, "300913"}}).value() == 300913);
  CHECK(absl::IsNotFound(ParseRestoredBlobSize({}).status()));
  for (const std::string& bad : std::vector<std::string>{"", "0", "-1", "17592186044417", "1 2", "x"}) {
    INFO(bad);
    auto parsed = ParseRestoredBlobSize({{kTideRestoreBlobSizeLabel, bad}});
    REQUIRE(absl::IsInvalidArgument(parsed.status()));
    CHECK(parsed.status().message().find(kTideRestoreBlobSizeLabel) != absl::string_view::npos);
  }
}

TEST_CASE("restore labels: only tide.restore.* labels are dropped", "[snapshotter][restore]") {
  Labels labels = {{"containerd.io/snapshot.ref", "x"},
                   {"containerd.io/snapshot/tide.repository", "r"},
                   {"containerd.io/snapshot/tide.restore.a", "1"},
                   {kTideRestoreSideIndexLabel, "2"},
                   {kTideRestoreStargzTocLabel, "estargz 1 2"},
                   {kTideRestoreBlobSizeLabel, "3"},
                   {"containerd.io/snapshot/tide.restorex", "3"}};
  DropRestoreLabels(labels);
  CHECK(labels.size() == 3);
  CHECK(labels.count("containerd.io/snapshot/tide.restorex") == 1);
  CHECK(labels.count(kTideRestoreSideIndexLabel) == 0);
  CHECK(labels.count(kTideRestoreStargzTocLabel) == 0);
  CHECK(labels.count(kTideRestoreBlobSizeLabel) == 0);
}

}  // namespace
}  // namespace tide::snapshotter
