#include "tidectl/pull_progress.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "oci/descriptor.h"
#include "pull/lazy_puller.h"

namespace tide::tidectl {
namespace {

std::string Render(bool terminal, const std::vector<pull::LayerProgress>& events) {
  char* buffer = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&buffer, &size);
  REQUIRE(out != nullptr);
  PullProgressPrinter printer(out, terminal);
  for (const auto& e : events) printer(e);
  std::fclose(out);
  std::string text(buffer, size);
  std::free(buffer);
  return text;
}

std::vector<pull::LayerProgress> Events() {
  auto digest = Digest::Parse("sha256:" + std::string(64, 'a'));
  REQUIRE(digest.ok());
  pull::LayerProgress p{
      0, 2, *digest, "application/vnd.oci.image.layer.v1.tar+gzip", 2048, pull::LayerState::kLazy, 0};
  std::vector<pull::LayerProgress> events = {p};
  p.index = 1;
  p.state = pull::LayerState::kDownloading;
  events.push_back(p);
  p.bytes_done = 1024;
  events.push_back(p);
  p.bytes_done = 2048;
  events.push_back(p);
  p.state = pull::LayerState::kApplying;
  events.push_back(p);
  p.state = pull::LayerState::kApplied;
  events.push_back(p);
  return events;
}

TEST_CASE("plain progress prints one line per layer state, no control characters") {
  std::string text = Render(false, Events());
  CHECK(text ==
        "layer 1/2 aaaaaaaaaaaa lazy        2.0 KiB plain application/vnd.oci.image.layer.v1.tar+gzip\n"
        "layer 2/2 aaaaaaaaaaaa downloading 0 B / 2.0 KiB plain application/vnd.oci.image.layer.v1.tar+gzip\n"
        "layer 2/2 aaaaaaaaaaaa applying    2.0 KiB / 2.0 KiB plain "
        "application/vnd.oci.image.layer.v1.tar+gzip\n"
        "layer 2/2 aaaaaaaaaaaa applied     2.0 KiB plain application/vnd.oci.image.layer.v1.tar+gzip\n");
}

TEST_CASE("terminal progress redraws the current layer's line") {
  std::string text = Render(true, Events());
  CHECK(text.find("\r\033[K") != std::string::npos);
  CHECK(text.find("1.0 KiB / 2.0 KiB") != std::string::npos);
  CHECK(text.back() == '\n');
  // One line per layer once the redraws are applied.
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
}

TEST_CASE("summary compares bytes fetched with the image size") {
  pull::PullResult r;
  r.image_name = "127.0.0.1:5000/app:v1";
  r.layers_lazy = 2;
  r.layers_applied = 1;
  r.bytes_fetched = 1024;
  r.image_size = 4 * 1024 * 1024;
  std::string s = PullSummary(r);
  CHECK(s.find("3 layers (2 lazy, 1 applied, 0 present)") != std::string::npos);
  CHECK(s.find("fetched 1.0 KiB of 4.0 MiB (0.0%)") != std::string::npos);
  CHECK(HumanBytes(999) == "999 B");
}

}  // namespace
TEST_CASE("each layer line names the format the layer's annotations claim") {
  oci::Descriptor layer;
  layer.media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
  CHECK(pull::LayerFormatOf(layer) == "plain");
  layer.annotations["containerd.io/snapshot/stargz/toc.digest"] = "sha256:00";
  CHECK(pull::LayerFormatOf(layer) == "estargz");
  layer.media_type = "application/vnd.oci.image.layer.v1.tar+zstd";
  CHECK(pull::LayerFormatOf(layer) == "zstd:chunked");
  layer.annotations["containerd.io/snapshot/tide.index-digest"] = "sha256:00";
  CHECK(pull::LayerFormatOf(layer) == "tide");
}

}  // namespace tide::tidectl
