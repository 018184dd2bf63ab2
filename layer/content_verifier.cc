#include "layer/content_verifier.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "format/layer_writer.h"
#include "format/stream_decoder.h"

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

namespace {

// How long one wait for a prefetch slot lasts before `stop` is looked at again.
constexpr std::chrono::milliseconds kSlotWait{500};

absl::StatusOr<std::string> ReadPieceInBackground(fetch::BlobSource& blob, uint64_t offset, uint64_t size,
                                                  fetch::FetchLimiter* limiter,
                                                  const std::atomic<bool>& stop) {
  if (limiter == nullptr) return blob.ReadAt(offset, size);
  std::string piece(size, '\0');
  const auto give_way = [&](uint64_t) {
    if (stop.load(std::memory_order_relaxed)) return absl::CancelledError("unmounted");
    if (limiter->on_demand_waiting()) return absl::AbortedError("a container read is waiting");
    return absl::OkStatus();
  };
  while (!stop.load(std::memory_order_relaxed)) {
    fetch::FetchLimiter::PrefetchSlot slot = limiter->AcquirePrefetch(size, stop, kSlotWait);
    if (!slot) continue;
    absl::Status read = blob.ReadInto(offset, std::span<char>(piece.data(), piece.size()), give_way,
                                      fetch::BlobSource::Deadline::max());
    if (read.ok()) return piece;
    if (!absl::IsAborted(read)) return read;
  }
  return absl::CancelledError("unmounted");
}

}  // namespace

absl::Status VerifyStreamedLayer(fetch::BlobSource& blob, uint64_t blob_size, format::LayerFormat format,
                                 const Digest& diff_id, fetch::FetchLimiter* limiter,
                                 const std::atomic<bool>& stop) {
  if (diff_id.empty()) return absl::FailedPreconditionError("no diff_id to verify against");
  if (blob_size == 0) return absl::FailedPreconditionError("blob size unknown");
  std::unique_ptr<format::StreamDecoder> decoder = format::NewBlobStreamDecoder(format);
  if (decoder == nullptr) return absl::FailedPreconditionError("not a streamed layer format");
  constexpr uint64_t kPiece = 4 << 20;
  Sha256 tar;
  for (uint64_t offset = 0; offset < blob_size; offset += kPiece) {
    if (stop.load(std::memory_order_relaxed)) return absl::CancelledError("unmounted");
    absl::StatusOr<std::string> piece =
        ReadPieceInBackground(blob, offset, std::min(kPiece, blob_size - offset), limiter, stop);
    if (absl::IsCancelled(piece.status())) return piece.status();
    if (!piece.ok())
      return absl::FailedPreconditionError(absl::StrCat("reading the blob: ", piece.status().message()));
    absl::Status fed =
        decoder->Feed(*piece, [&tar](std::string_view out) { tar.Update(out.data(), out.size()); });
    if (!fed.ok()) return absl::DataLossError(absl::StrCat("layer blob at ", offset, ": ", fed.message()));
  }
  TIDE_RETURN_IF_ERROR(decoder->Finish());
  const Digest got = Digest::FromSha256(tar.Finish());
  if (got != diff_id) {
    return absl::DataLossError(
        absl::StrCat("layer tar hashes to ", got.str(), ", not to the diff_id ", diff_id.str()));
  }
  return absl::OkStatus();
}

}  // namespace tide::layer
