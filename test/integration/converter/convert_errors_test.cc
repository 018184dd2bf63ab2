#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <vector>

#include "oci/manifest.h"
#include "oci/media_types.h"
#include "oci/oci_layout.h"
#include "test/integration/converter/layout_builder.h"
#include "test/integration/converter/roundtrip_check.h"
#include "test/support/temp_dir.h"

using namespace tide::testing;
namespace oci = tide::oci;

namespace {

std::string GoodTar() {
  return MakeTar({{"dir/", '5', "", "", 0755},
                  {"dir/file.txt", '0', std::string(200000, 'x') + "end", "", 0644},
                  {"dir/link", '2', "", "file.txt", 0777}});
}

struct Failure {
  int exit_code;
  std::string output;
};

// Converts src:bad into dst:out, which must fail and leave dst without the tag "out".
Failure ConvertExpectingFailure(const TempDir& dir) {
  std::string dst = (dir / "dst").string();
  auto r = Tidectl({"convert", "-q", "oci:" + (dir / "src").string() + ":bad", "oci:" + dst + ":out"});
  auto layout = oci::OciLayout::Open(dst);
  if (layout.ok()) {
    CHECK_FALSE(layout->Resolve("out").ok());
  }
  return Failure{r.exit_code, r.output};
}

}  // namespace

TEST_CASE("corrupt and truncated compression fail naming the layer", "[converter][errors]") {
  TempDir dir("tide-convert-err");
  std::string tar = GoodTar();
  std::string gz = GzipBytes(tar);
  WriteImage(dir / "src", "bad",
             {{GzipBytes(MakeTar({{"ok.txt", '0', "fine", "", 0644}})), std::string(oci::kOciLayerGzip),
               MakeTar({{"ok.txt", '0', "fine", "", 0644}})},
              {gz.substr(0, gz.size() / 2), std::string(oci::kDockerLayerGzip), tar}});
  auto f = ConvertExpectingFailure(dir);
  INFO(f.output);
  CHECK(f.exit_code == 1);
  CHECK(f.output.find("layer 2/2 sha256:") != std::string::npos);
  CHECK(f.output.find("truncated gzip stream") != std::string::npos);

  TempDir dir2("tide-convert-err");
  std::string zs = ZstdBytes(tar);
  for (size_t i = 20; i < 60 && i < zs.size(); ++i) zs[i] = static_cast<char>(zs[i] ^ 0x5a);
  WriteImage(dir2 / "src", "bad", {{zs, std::string(oci::kOciLayerZstd), tar}});
  auto z = ConvertExpectingFailure(dir2);
  INFO(z.output);
  CHECK(z.exit_code == 1);
  CHECK(z.output.find("layer 1/1 sha256:") != std::string::npos);
  CHECK(z.output.find("zstd") != std::string::npos);
}

TEST_CASE("bad tar content fails naming layer and entry", "[converter][errors]") {
  struct Case {
    std::string tar;
    std::string expect;
  };
  std::string good = GoodTar();
  std::vector<Case> cases = {
      {good.substr(0, 512 + 512 + 4096), "dir/file.txt"},  // truncated inside the file's content
      {MakeTar({{"/etc/passwd", '0', "root", "", 0644}}), "absolute path"},
      {MakeTar({{"a/../../escape", '0', "x", "", 0644}}), "escape"},
      {MakeTar({{"volume", 'V', "", "", 0644}}), "unsupported entry type"},
  };
  for (const Case& c : cases) {
    TempDir dir("tide-convert-err");
    WriteImage(dir / "src", "bad", {{c.tar, std::string(oci::kOciLayerTar), c.tar}});
    auto f = ConvertExpectingFailure(dir);
    INFO(f.output);
    CHECK(f.exit_code == 1);
    CHECK(f.output.find("layer 1/1 sha256:") != std::string::npos);
    CHECK(f.output.find(c.expect) != std::string::npos);
  }
}

TEST_CASE("blob digest and diff_id mismatches are caught before anything is tagged", "[converter][errors]") {
  TempDir dir("tide-convert-err");
  std::string tar = GoodTar();
  auto desc = WriteImage(dir / "src", "bad", {{GzipBytes(tar), std::string(oci::kOciLayerGzip), tar}});
  auto layout = oci::OciLayout::Open(dir / "src");
  REQUIRE(layout.ok());
  auto m = oci::Manifest::Parse(*layout->ReadBlob(desc.digest));
  REQUIRE(m.ok());
  // Same length, different (still valid) content under the manifest's digest.
  std::string other = GzipBytes(MakeTar({{"dir/", '5', "", "", 0755},
                                         {"dir/file.txt", '0', std::string(200000, 'y') + "end", "", 0644},
                                         {"dir/link", '2', "", "file.txt", 0777}}));
  WriteFile(layout->BlobPath(m->layers[0].digest), other);
  auto f = ConvertExpectingFailure(dir);
  INFO(f.output);
  CHECK(f.exit_code == 1);
  CHECK(f.output.find("layer 1/1 sha256:") != std::string::npos);
  CHECK(f.output.find("blob digest mismatch") != std::string::npos);

  TempDir dir2("tide-convert-err");
  WriteImage(dir2 / "src", "bad", {{GzipBytes(tar), std::string(oci::kOciLayerGzip), tar + "not the tar"}});
  auto d = ConvertExpectingFailure(dir2);
  INFO(d.output);
  CHECK(d.exit_code == 1);
  CHECK(d.output.find("diff_id") != std::string::npos);
}

TEST_CASE("malformed manifests are rejected with the reason", "[converter][errors]") {
  TempDir dir("tide-convert-err");
  WriteRawManifest(dir / "src", "bad", "{\"schemaVersion\": 2, \"config\": ");
  auto f = ConvertExpectingFailure(dir);
  INFO(f.output);
  CHECK(f.exit_code == 1);
  CHECK(f.output.find("malformed JSON") != std::string::npos);

  TempDir dir2("tide-convert-err");
  WriteRawManifest(dir2 / "src", "bad",
                   R"({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                 "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
      "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "size": "12"}]})");
  auto g = ConvertExpectingFailure(dir2);
  INFO(g.output);
  CHECK(g.exit_code == 1);
  CHECK(g.output.find("layer 0") != std::string::npos);
}

TEST_CASE("a failed conversion leaves an existing destination tag untouched", "[converter][errors]") {
  TempDir dir("tide-convert-err");
  std::string tar = GoodTar();
  WriteImage(dir / "src", "good", {{GzipBytes(tar), std::string(oci::kOciLayerGzip), tar}});
  std::string dst = (dir / "dst").string();
  auto ok = Tidectl({"convert", "-q", "oci:" + (dir / "src").string() + ":good", "oci:" + dst + ":out"});
  INFO(ok.output);
  REQUIRE(ok.exit_code == 0);
  auto layout = oci::OciLayout::Open(dst);
  REQUIRE(layout.ok());
  auto before = layout->Resolve("out");
  REQUIRE(before.ok());
  std::string gz = GzipBytes(tar);
  WriteImage(dir / "src", "bad", {{gz.substr(0, gz.size() - 9), std::string(oci::kOciLayerGzip), tar}});
  auto bad = Tidectl({"convert", "-q", "oci:" + (dir / "src").string() + ":bad", "oci:" + dst + ":out"});
  CHECK(bad.exit_code == 1);
  auto after = layout->Resolve("out");
  REQUIRE(after.ok());
  CHECK(after->digest == before->digest);
  // No temp files left in the destination.
  size_t temps = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(dst) / "blobs")) {
    if (e.path().filename().string().rfind(".tmp", 0) == 0) ++temps;
  }
  CHECK(temps == 0);
}

namespace {

// Every regular file under dir with its content.
std::map<std::string, std::string> FilesUnder(const std::filesystem::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files[e.path().lexically_relative(dir).string()] = ReadFile(e.path());
  }
  return files;
}

std::vector<std::string> EntriesOf(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<LayerBlob> TruncatedLayer() {
  std::string tar = GoodTar();
  std::string gz = GzipBytes(tar);
  return {{gz.substr(0, gz.size() - 9), std::string(oci::kOciLayerGzip), tar}};
}

}  // namespace

TEST_CASE("a failed conversion into a new or empty directory leaves no layout there", "[converter][errors]") {
  TempDir dir("tide-convert-err");
  WriteImage(dir / "src", "bad", TruncatedLayer());
  std::string src = "oci:" + (dir / "src").string();

  auto missing = Tidectl({"convert", "-q", "oci:" + (dir / "no-such-layout").string() + ":v1",
                          "oci:" + (dir / "out1").string() + ":v1"});
  CHECK(missing.exit_code == 1);
  auto bad = Tidectl({"convert", "-q", src + ":bad", "oci:" + (dir / "out2").string() + ":v1"});
  INFO(bad.output);
  CHECK(bad.exit_code == 1);
  CHECK(bad.output.find("truncated gzip stream") != std::string::npos);
  auto nested = Tidectl({"convert", "-q", src + ":bad", "oci:" + (dir / "out3" / "x").string() + "/"});
  CHECK(nested.exit_code == 1);
  std::filesystem::create_directory(dir / "empty");
  auto into_empty = Tidectl({"convert", "-q", src + ":bad", "oci:" + (dir / "empty").string() + ":v1"});
  CHECK(into_empty.exit_code == 1);
  // Nothing but the source, the empty directory as it was, and the parent made for out3/x.
  CHECK(EntriesOf(dir.path()) == std::vector<std::string>{"empty", "out3", "src"});
  CHECK(EntriesOf(dir / "empty").empty());
  CHECK(EntriesOf(dir / "out3").empty());

  // The same destinations work once the source is good, with nothing left beside them.
  WriteImage(dir / "src", "good", {{GzipBytes(GoodTar()), std::string(oci::kOciLayerGzip), GoodTar()}});
  for (const char* out : {"out2", "empty"}) {
    auto ok = Tidectl({"convert", "-q", src + ":good", "oci:" + (dir / out).string() + ":v1"});
    INFO(ok.output);
    REQUIRE(ok.exit_code == 0);
    auto layout = oci::OciLayout::Open(dir / out);
    REQUIRE(layout.ok());
    CHECK(layout->Resolve("v1").ok());
  }
  CHECK(EntriesOf(dir.path()) == std::vector<std::string>{"empty", "out2", "out3", "src"});
}

TEST_CASE("a failed conversion keeps every file of an existing layout", "[converter][errors]") {
  TempDir dir("tide-convert-err");
  std::string tar = GoodTar();
  WriteImage(dir / "src", "good", {{GzipBytes(tar), std::string(oci::kOciLayerGzip), tar}});
  WriteImage(dir / "src", "bad", TruncatedLayer());
  std::string src = "oci:" + (dir / "src").string();
  std::filesystem::path dst = dir / "dst";
  REQUIRE(Tidectl({"convert", "-q", src + ":good", "oci:" + dst.string() + ":keep"}).exit_code == 0);
  REQUIRE(Tidectl({"convert", "-q", src + ":good", "oci:" + dst.string() + ":out"}).exit_code == 0);
  auto before = FilesUnder(dst);

  CHECK(Tidectl({"convert", "-q", src + ":bad", "oci:" + dst.string() + ":out"}).exit_code == 1);
  auto after = FilesUnder(dst);
  for (const auto& [name, content] : before) {
    INFO(name);
    REQUIRE(after.count(name) == 1);
    CHECK(after[name] == content);
  }
  CHECK(EntriesOf(dir.path()) == std::vector<std::string>{"dst", "src"});
}

TEST_CASE("a non-empty directory that is not a layout is refused and left alone", "[converter][errors]") {
  TempDir dir("tide-convert-err");
  std::string tar = GoodTar();
  WriteImage(dir / "src", "good", {{GzipBytes(tar), std::string(oci::kOciLayerGzip), tar}});
  WriteFile(dir / "home" / "notes.txt", "mine");
  auto r =
      Tidectl({"convert", "-q", "oci:" + (dir / "src").string() + ":good", "oci:" + (dir / "home").string()});
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find((dir / "home").string() + " exists and is not an OCI image layout") !=
        std::string::npos);
  CHECK(FilesUnder(dir / "home") == std::map<std::string, std::string>{{"notes.txt", "mine"}});
  CHECK(EntriesOf(dir.path()) == std::vector<std::string>{"home", "src"});
}

TEST_CASE("--platform judges index entries without a platform field by their config",
          "[converter][platform]") {
  TempDir dir("tide-convert-platform");
  std::string tar = GoodTar();
  auto amd =
      WriteImage(dir / "src", "amd", {{GzipBytes(tar), std::string(oci::kOciLayerGzip), tar}}, "amd64");
  auto arm =
      WriteImage(dir / "src", "arm", {{ZstdBytes(tar), std::string(oci::kOciLayerZstd), tar}}, "arm64");
  WriteIndex(dir / "src", "multi", {amd, arm});
  std::string src = "oci:" + (dir / "src").string();
  std::string dst = (dir / "dst").string();

  auto all = Tidectl({"convert", "-q", src + ":multi", "oci:" + dst + ":all"});
  INFO(all.output);
  REQUIRE(all.exit_code == 0);
  CHECK(all.output.find("2 manifest(s), 2 layer(s)") != std::string::npos);

  auto arm_only =
      Tidectl({"convert", "-q", "--platform", "linux/arm64", src + ":multi", "oci:" + dst + ":arm"});
  INFO(arm_only.output);
  REQUIRE(arm_only.exit_code == 0);
  CHECK(arm_only.output.find("1 manifest(s), 1 layer(s)") != std::string::npos);

  auto mismatch = Tidectl({"convert", "-q", "--platform", "linux/arm64", src + ":amd", "oci:" + dst + ":x"});
  CHECK(mismatch.exit_code == 1);
  CHECK(mismatch.output.find("is for linux/amd64, not linux/arm64/v8") != std::string::npos);
}
