#include "layer/content_verifier.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "format/layer_writer.h"

namespace tide::layer {

absl::Status VerifyLayerTar(const format::LayerIndex& index, fetch::ChunkFetcher& fetcher,
                            const std::atomic<bool>& stop) {
  if (index.diff_id().empty()) return absl::FailedPreconditionError("the index names no diff_id");
  const size_t count = index.chunks().size();
  for (uint32_t i = 0; i < count; ++i) {
    if (!fetcher.IsCached(i))
      return absl::FailedPreconditionError(absl::StrCat("chunk ", i, " is not cached"));
  }
  Sha256 tar;
  std::vector<char> buffer;
  for (uint32_t i = 0; i < count; ++i) {
    if (stop.load(std::memory_order_relaxed)) return absl::CancelledError("unmounted");
    const format::ChunkInfo& chunk = index.chunk(i);
    // The index loader bounds chunk sizes; this keeps the buffer bounded even if that changes.
    if (chunk.uncompressed_size > format::kMaxChunkSize) {
      return absl::DataLossError(absl::StrCat("chunk ", i, " is larger than any chunk may be"));
    }
    buffer.resize(chunk.uncompressed_size);
    absl::StatusOr<size_t> n = fetcher.cache().Read(fetcher.chunk(i).digest, 0, std::span<char>(buffer));
    // Evicted meanwhile: nothing can be said until it is fetched again.
    if (!n.ok() || *n != buffer.size()) {
      return absl::FailedPreconditionError(absl::StrCat("chunk ", i, " left the cache"));
    }
    tar.Update(buffer.data(), buffer.size());
  }
  const Digest got = Digest::FromSha256(tar.Finish());
  if (got == index.diff_id()) return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat("layer tar hashes to ", got.str(), ", but its index commits to ", index.diff_id().str()));
}

}  // namespace tide::layer
