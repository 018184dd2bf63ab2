#ifndef TIDE_FORMAT_ESTARGZ_ESTARGZ_READER_H_
#define TIDE_FORMAT_ESTARGZ_ESTARGZ_READER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "format/byte_io.h"
#include "format/estargz/stargz_toc_index.h"
#include "format/index_limits.h"
#include "format/layer_index.h"

namespace tide::format {

// The TOC JSON out of the TOC member (the blob from the footer's TOC offset to the footer): one gzip
// member holding a tar whose first entry is "stargz.index.json".
absl::StatusOr<std::string> EstargzTocJson(std::string_view toc_member, const IndexLimits& limits = {});

// Loads an eStargz layer's index: footer, TOC member, TOC JSON, which must hash to `toc_digest` (the
// layer's containerd.io/snapshot/stargz/toc.digest annotation) before anything in it is used.
absl::StatusOr<LayerIndex> LoadEstargzIndex(RangeReader& blob, uint64_t blob_size, const Digest& toc_digest,
                                            const IndexLimits& limits = {});
// The same with the blob's last 51 bytes already read.
absl::StatusOr<LayerIndex> LoadEstargzIndexFromFooter(RangeReader& blob, uint64_t blob_size,
                                                      std::string_view footer, const Digest& toc_digest,
                                                      const IndexLimits& limits = {});

// A layer annotated with a stargz toc.digest is eStargz or (stargz-snapshotter's) zstd:chunked;
// its last bytes tell which. Loads either.
absl::StatusOr<LayerIndex> LoadStargzTocLayerIndex(RangeReader& blob, uint64_t blob_size,
                                                   const Digest& toc_digest, const IndexLimits& limits = {});
// The verified TOC alone, of either format.
absl::StatusOr<StargzToc> ReadStargzToc(RangeReader& blob, uint64_t blob_size, const Digest& toc_digest,
                                        const IndexLimits& limits = {});

}  // namespace tide::format

#endif  // TIDE_FORMAT_ESTARGZ_ESTARGZ_READER_H_
