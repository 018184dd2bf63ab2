#ifndef TIDE_LAYER_CONTENT_VERIFIER_H_
#define TIDE_LAYER_CONTENT_VERIFIER_H_

#include <atomic>
#include <functional>

#include "absl/status/status.h"
#include "common/digest.h"
#include "fetch/blob_source.h"
#include "fetch/chunk_fetcher.h"
#include "fetch/fetch_limiter.h"
#include "format/layer_index.h"

namespace tide::layer {

// Hashes the whole layer tar from the cached chunks, in order, and compares it with the diff_id the
// index commits to. Each chunk was checked against its own digest when it was cached, but those
// digests come from the same index: only the whole tar ties the content to the diff_id that the image
// config, and so the chainID, name (docs/security.md).
//   OK: the content is the diff_id's. DataLoss: it is not.
//   FailedPrecondition: not every chunk is cached (yet), or the index names no diff_id.
//   Cancelled: `stop` was set.
absl::Status VerifyLayerTar(const format::LayerIndex& index, fetch::ChunkFetcher& fetcher,
                            const std::atomic<bool>& stop);

// How VerifyStreamedLayer downloads the blob.
struct StreamedCheckOptions {
  // With a limiter the download is background prefetch like any other: each piece waits for a
  // prefetch slot (no container read waiting, within the node's prefetch concurrency and bandwidth)
  // and gives way mid-transfer when a container read arrives, then is fetched again.
  fetch::FetchLimiter* limiter = nullptr;
  // Checked before each piece: while false (a workload is starting on the node) the download waits.
  std::function<bool()> may_run;
  // The layer's fetcher: the chunks that pass by are cached (ChunkFetcher::StoreStreamed), so one
  // download both prefetches the layer and checks it. A chunk is held until its last piece arrives,
  // but no more than kMaxStreamedChunkBytes of it after a piece: a larger one may be left to the
  // ordinary prefetch.
  fetch::ChunkFetcher* fill = nullptr;
};
inline constexpr uint64_t kMaxStreamedChunkBytes = 16 << 20;

// For layers whose chunks hold file contents only (eStargz, zstd:chunked): reads the whole blob from
// `blob` and hashes what it decompresses to (gzip members, or zstd frames without the skippable ones
// holding the TOC), which is the layer tar, against `diff_id`. Same results as VerifyLayerTar;
// FailedPrecondition also when `diff_id` is empty or the blob cannot be read (each piece is tried
// a few times).
absl::Status VerifyStreamedLayer(fetch::BlobSource& blob, uint64_t blob_size, format::LayerFormat format,
                                 const Digest& diff_id, const StreamedCheckOptions& options,
                                 const std::atomic<bool>& stop);

}  // namespace tide::layer

#endif  // TIDE_LAYER_CONTENT_VERIFIER_H_
