#include "snapshotter/restore_labels.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "format/index_limits.h"

namespace tide::snapshotter {
namespace {

// 16 TiB: far above any layer a node pulls, far below where offsets would overflow.
constexpr uint64_t kMaxRestoredBlobSize = uint64_t{1} << 44;

constexpr char kEstargzName[] = "estargz";
constexpr char kZstdChunkedName[] = "zstd:chunked";

absl::Status BadLabel(const char* key, const std::string& value, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(key, " label \"", value.substr(0, 200), "\": ", why));
}

}  // namespace

std::string FormatRestoredSideIndex(const RestoredSideIndex& index) {
  return absl::StrCat(index.digest.str(), " ", index.size, " ", index.blob_size);
}

absl::StatusOr<RestoredSideIndex> ParseRestoredSideIndex(const Labels& labels) {
  auto it = labels.find(kTideRestoreSideIndexLabel);
  if (it == labels.end())
    return absl::NotFoundError(absl::StrCat("no ", kTideRestoreSideIndexLabel, " label"));
  const std::vector<std::string> parts = absl::StrSplit(it->second, ' ');
  RestoredSideIndex index;
  auto bad = [&](absl::string_view why) { return BadLabel(kTideRestoreSideIndexLabel, it->second, why); };
  if (parts.size() != 3) return bad("want \"<digest> <size> <blob size>\"");
  auto digest = Digest::Parse(parts[0]);
  if (!digest.ok()) return bad(std::string(digest.status().message()));
  index.digest = *digest;
  if (!absl::SimpleAtoi(parts[1], &index.size)) return bad("index size is not a number");
  if (absl::Status size = format::CheckIndexFrameSize("the side index", index.size); !size.ok())
    return bad(size.message());
  if (!absl::SimpleAtoi(parts[2], &index.blob_size) || index.blob_size == 0 ||
      index.blob_size > kMaxRestoredBlobSize)
    return bad(absl::StrCat("blob size outside 1..", kMaxRestoredBlobSize));
  return index;
}

std::string FormatRestoredStargzToc(const RestoredStargzToc& toc) {
  const char* name = toc.format == format::LayerFormat::kZstdChunked ? kZstdChunkedName : kEstargzName;
  return absl::StrCat(name, " ", toc.toc_offset, " ", toc.blob_size);
}

absl::StatusOr<RestoredStargzToc> ParseRestoredStargzToc(const Labels& labels) {
  auto it = labels.find(kTideRestoreStargzTocLabel);
  if (it == labels.end())
    return absl::NotFoundError(absl::StrCat("no ", kTideRestoreStargzTocLabel, " label"));
  const std::vector<std::string> parts = absl::StrSplit(it->second, ' ');
  auto bad = [&](absl::string_view why) { return BadLabel(kTideRestoreStargzTocLabel, it->second, why); };
  if (parts.size() != 3) return bad("want \"<estargz|zstd:chunked> <toc offset> <blob size>\"");
  RestoredStargzToc toc;
  if (parts[0] == kEstargzName) {
    toc.format = format::LayerFormat::kEstargz;
  } else if (parts[0] == kZstdChunkedName) {
    toc.format = format::LayerFormat::kZstdChunked;
  } else {
    return bad("format is neither estargz nor zstd:chunked");
  }
  if (!absl::SimpleAtoi(parts[2], &toc.blob_size) || toc.blob_size == 0 ||
      toc.blob_size > kMaxRestoredBlobSize)
    return bad(absl::StrCat("blob size outside 1..", kMaxRestoredBlobSize));
  if (!absl::SimpleAtoi(parts[1], &toc.toc_offset) || toc.toc_offset >= toc.blob_size)
    return bad("toc offset not inside the blob");
  return toc;
}

absl::StatusOr<uint64_t> ParseRestoredBlobSize(const Labels& labels) {
  auto it = labels.find(kTideRestoreBlobSizeLabel);
  if (it == labels.end())
    return absl::NotFoundError(absl::StrCat("no ", kTideRestoreBlobSizeLabel, " label"));
  uint64_t size = 0;
  if (!absl::SimpleAtoi(it->second, &size) || size == 0 || size > kMaxRestoredBlobSize)
    return BadLabel(kTideRestoreBlobSizeLabel, it->second,
                    absl::StrCat("not a size in 1..", kMaxRestoredBlobSize));
  return size;
}

void DropRestoreLabels(Labels& labels) {
  for (auto it = labels.lower_bound(kTideRestoreLabelPrefix);
       it != labels.end() && absl::StartsWith(it->first, kTideRestoreLabelPrefix);) {
    it = labels.erase(it);
  }
}

}  // namespace tide::snapshotter
