// libFuzzer target: the labels of a Prepare, which carry an image's annotations, as the daemon reads
// them to decide where a layer lives (fuse_remote_layer_mounter.cc: LocateRemoteLayer, then the
// reference, the digests and the index location). Input: "key=value" lines; a first line
// "blob=N" sets the blob size. What is accepted is bounded before it sizes anything. The restore
// labels (restore_labels.h) are the daemon's own, but read back from its store after a restart:
// their parsers get the same input.

#include <algorithm>
#include <map>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "common/digest.h"
#include "format/index_limits.h"
#include "layer/layer_mount_manager.h"
#include "registry/reference.h"
#include "snapshotter/remote_layer_labels.h"
#include "snapshotter/restore_labels.h"
#include "test/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  tide::snapshotter::Labels labels;
  uint64_t blob_size = 0;
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(line.substr(0, eq)), value(line.substr(eq + 1));
    if (key == "blob") {
      (void)absl::SimpleAtoi(value, &blob_size);
      continue;
    }
    labels[key] = value;
  }
  auto location = tide::snapshotter::LocateRemoteLayer(labels);
  if (location.ok()) {
    FUZZ_CHECK(!location->reference.empty());
    (void)tide::registry::Reference::Parse(location->reference);
    if (!location->layer_digest.empty()) (void)tide::Digest::Parse(location->layer_digest);
  }
  // The layer descriptor's annotations reach the daemon as these labels, under the same keys.
  const std::map<std::string, std::string> annotations(labels.begin(), labels.end());
  auto index = tide::layer::IndexLocationFromAnnotations(annotations, blob_size);
  if (index.ok() && index->format == tide::format::LayerFormat::kEstargz) {
    // A stargz TOC digest: the footer, read later, says where the TOC is.
    FUZZ_CHECK(!index->digest.empty() && index->size == 0);
  } else if (index.ok()) {
    // A tide index frame, or containers/storage's zstd:chunked TOC: located by the labels.
    FUZZ_CHECK(index->size > 0 && index->size <= tide::format::kMaxIndexFrameSize);
    FUZZ_CHECK(blob_size == 0 || (index->offset <= blob_size && index->size <= blob_size - index->offset));
  }
  if (auto side = tide::snapshotter::ParseRestoredSideIndex(labels); side.ok()) {
    FUZZ_CHECK(!side->digest.empty() && side->size > 0 && side->size <= tide::format::kMaxIndexFrameSize);
    FUZZ_CHECK(side->blob_size > 0 && side->blob_size <= (uint64_t{1} << 44));
  }
  if (auto toc = tide::snapshotter::ParseRestoredStargzToc(labels); toc.ok()) {
    FUZZ_CHECK(toc->blob_size > 0 && toc->blob_size <= (uint64_t{1} << 44) &&
               toc->toc_offset < toc->blob_size);
    FUZZ_CHECK(toc->format == tide::format::LayerFormat::kEstargz ||
               toc->format == tide::format::LayerFormat::kZstdChunked);
  }
  if (auto restored_size = tide::snapshotter::ParseRestoredBlobSize(labels); restored_size.ok())
    FUZZ_CHECK(*restored_size > 0 && *restored_size <= (uint64_t{1} << 44));
  tide::snapshotter::DropRestoreLabels(labels);
  for (const auto& [key, value] : labels)
    FUZZ_CHECK(key.rfind(tide::snapshotter::kTideRestoreLabelPrefix, 0) != 0);
  return 0;
}
