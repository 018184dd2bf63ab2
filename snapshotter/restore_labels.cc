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
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat(kTideRestoreSideIndexLabel, " label \"", it->second.substr(0, 200), "\": ", why));
  };
  if (parts.size() != 3) return bad("want \"<digest> <size> <blob size>\"");
  auto digest = Digest::Parse(parts[0]);
  if (!digest.ok()) return bad(std::string(digest.status().message()));
  index.digest = *digest;
  if (!absl::SimpleAtoi(parts[1], &index.size) || index.size == 0 || index.size > format::kMaxIndexFrameSize)
    return bad(absl::StrCat("index size outside 1..", format::kMaxIndexFrameSize));
  if (!absl::SimpleAtoi(parts[2], &index.blob_size) || index.blob_size == 0 ||
      index.blob_size > kMaxRestoredBlobSize)
    return bad(absl::StrCat("blob size outside 1..", kMaxRestoredBlobSize));
  return index;
}

void DropRestoreLabels(Labels& labels) {
  for (auto it = labels.lower_bound(kTideRestoreLabelPrefix);
       it != labels.end() && absl::StartsWith(it->first, kTideRestoreLabelPrefix);) {
    it = labels.erase(it);
  }
}

}  // namespace tide::snapshotter
