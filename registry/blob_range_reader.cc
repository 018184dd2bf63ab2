#include "registry/blob_range_reader.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "registry/client_core.h"

namespace tide::registry {

BlobRangeReader::BlobRangeReader(std::shared_ptr<ClientCore> core, Reference repo, Digest digest,
                                 uint64_t size)
    : core_(std::move(core)), repo_(std::move(repo)), digest_(std::move(digest)), size_(size) {}

absl::Status BlobRangeReader::CheckRange(uint64_t offset, uint64_t length) const {
  if (offset > size_ || length > size_ - offset) {
    return absl::OutOfRangeError(absl::StrCat("blob ", digest_.str(), " in ", repo_.repository(), ": range ",
                                              offset, "+", length, " is beyond its ", size_, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status BlobRangeReader::ReadInto(uint64_t offset, std::span<char> out, const RangeProgress& progress,
                                       std::chrono::steady_clock::time_point deadline) {
  TIDE_RETURN_IF_ERROR(CheckRange(offset, out.size()));
  return core_->ReadRangeInto(repo_, digest_, offset, out, progress, deadline);
}

absl::StatusOr<std::string> BlobRangeReader::ReadAt(uint64_t offset, uint64_t length) {
  TIDE_RETURN_IF_ERROR(CheckRange(offset, length));
  std::string out(length, '\0');
  TIDE_RETURN_IF_ERROR(ReadInto(offset, std::span<char>(out.data(), out.size())));
  return out;
}

absl::StatusOr<std::vector<std::string>> BlobRangeReader::ReadRanges(std::span<const ByteRange> ranges) {
  std::vector<std::string> out(ranges.size());
  std::vector<std::span<char>> spans(ranges.size());
  for (size_t i = 0; i < ranges.size(); ++i) {
    out[i].resize(ranges[i].length);
    spans[i] = std::span<char>(out[i].data(), out[i].size());
  }
  TIDE_RETURN_IF_ERROR(ReadRangesInto(ranges, spans));
  return out;
}

absl::Status BlobRangeReader::ReadRangesInto(std::span<const ByteRange> ranges,
                                             std::span<const std::span<char>> outs) {
  for (const ByteRange& r : ranges) TIDE_RETURN_IF_ERROR(CheckRange(r.offset, r.length));
  return core_->ReadRangesInto(repo_, digest_, ranges, outs);
}

}  // namespace tide::registry
