#ifndef TIDE_LAYER_CONTENT_VERIFIER_H_
#define TIDE_LAYER_CONTENT_VERIFIER_H_

#include <atomic>

#include "absl/status/status.h"
#include "fetch/chunk_fetcher.h"
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

}  // namespace tide::layer

#endif  // TIDE_LAYER_CONTENT_VERIFIER_H_
