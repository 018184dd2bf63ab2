#include "layer/content_verifier.h"

#include <algorithm>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "format/layer_writer.h"
#include "format/stream_decoder.h"
#include "layer/tar_stream_hash.h"

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

// A failed piece (the registry erred or the connection dropped) is tried again after a pause.
absl::StatusOr<std::string> ReadPieceWithRetries(fetch::BlobSource& blob, uint64_t offset, uint64_t size,
                                                 fetch::FetchLimiter* limiter,
                                                 const std::atomic<bool>& stop) {
  constexpr int kAttempts = 4;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<std::string> piece = ReadPieceInBackground(blob, offset, size, limiter, stop);
    if (piece.ok() || absl::IsCancelled(piece.status()) || attempt == kAttempts) return piece;
    for (int i = 0; i < attempt * 5 && !stop.load(std::memory_order_relaxed); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

absl::Status WaitForTurn(const std::function<bool()>& may_run, const std::atomic<bool>& stop) {
  while (may_run && !may_run()) {
    if (stop.load(std::memory_order_relaxed)) return absl::CancelledError("unmounted");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (stop.load(std::memory_order_relaxed)) return absl::CancelledError("unmounted");
  return absl::OkStatus();
}

// Hands the streamed bytes to the layer's fetcher, keeping the start of a chunk that runs past a
// piece until the piece that ends it arrives.
class StreamedFill {
 public:
  explicit StreamedFill(fetch::ChunkFetcher* fetcher) : fetcher_(fetcher) {}

  void Offer(uint64_t offset, std::string_view piece) {
    if (fetcher_ == nullptr) return;
    fetcher_->CountBackgroundTransfer(piece.size());
    if (kept_.empty()) kept_at_ = offset;
    kept_.append(piece);
    const uint64_t keep_from = fetcher_->StoreStreamed(kept_at_, kept_);
    kept_.erase(0, static_cast<size_t>(keep_from - kept_at_));
    kept_at_ = keep_from;
    // A chunk this large is not held in memory here: the ordinary prefetch fetches it afterwards.
    if (kept_.size() > kMaxStreamedChunkBytes) kept_.clear();
  }

 private:
  fetch::ChunkFetcher* fetcher_;
  std::string kept_;
  uint64_t kept_at_ = 0;
};

}  // namespace

absl::Status VerifyStreamedLayer(fetch::BlobSource& blob, uint64_t blob_size, format::LayerFormat format,
                                 const Digest& diff_id, const StreamedCheckOptions& options,
                                 const std::atomic<bool>& stop) {
  if (diff_id.empty()) return absl::FailedPreconditionError("no diff_id to verify against");
  if (blob_size == 0) return absl::FailedPreconditionError("blob size unknown");
  std::unique_ptr<format::StreamDecoder> decoder = format::NewBlobStreamDecoder(format);
  if (decoder == nullptr) return absl::FailedPreconditionError("not a streamed layer format");
  constexpr uint64_t kPiece = 4 << 20;
  TarStreamHash tar;
  StreamedFill fill(options.fill);
  for (uint64_t offset = 0; offset < blob_size; offset += kPiece) {
    TIDE_RETURN_IF_ERROR(WaitForTurn(options.may_run, stop));
    absl::StatusOr<std::string> piece =
        ReadPieceWithRetries(blob, offset, std::min(kPiece, blob_size - offset), options.limiter, stop);
    if (absl::IsCancelled(piece.status())) return piece.status();
    if (!piece.ok())
      return absl::FailedPreconditionError(absl::StrCat("reading the blob: ", piece.status().message()));
    absl::Status fed = decoder->Feed(*piece, [&tar](std::string_view out) { tar.Update(out); });
    if (!fed.ok()) return absl::DataLossError(absl::StrCat("layer blob at ", offset, ": ", fed.message()));
    fill.Offer(offset, *piece);
  }
  TIDE_RETURN_IF_ERROR(decoder->Finish());
  return tar.Check(diff_id);
}

}  // namespace tide::layer
