#include "fuse/layer_file_reader.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "cache/chunk_reader.h"
#include "common/status_macros.h"

namespace tide::fuse {

absl::StatusOr<size_t> ReadLayerFile(const format::LayerIndex& index, fetch::ChunkFetcher& fetcher,
                                     format::EntryId id, uint64_t offset, std::span<char> dst,
                                     const fetch::ReadAhead& ahead, std::chrono::milliseconds timeout) {
  const format::EntryAttr& a = index.attr(id);
  if (a.type != format::EntryType::kRegular) return absl::InvalidArgumentError("not a regular file");
  if (offset >= a.size || dst.empty()) return 0;
  const uint64_t length = std::min<uint64_t>(dst.size(), a.size - offset);
  const format::ChunkRange range = index.ChunksFor(id, offset, length);
  if (range.count == 0) return absl::InternalError("index maps no chunks to a non-empty range");
  const uint32_t last = range.first + range.count - 1;
  if (timeout == std::chrono::milliseconds::zero()) timeout = fetcher.options().read_timeout;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int attempt = 0; attempt < 4; ++attempt) {
    TIDE_RETURN_IF_ERROR(fetcher.Ensure(range.first, last, fetch::FetchPriority::kOnDemand, deadline,
                                        attempt == 0 ? ahead : fetch::ReadAhead{}));
    uint64_t pos = a.data_offset + offset;
    uint64_t done = 0;
    bool evicted = false;
    for (uint32_t c = range.first; c <= last && done < length; ++c) {
      const format::ChunkInfo& chunk = index.chunk(c);
      const uint64_t within = pos + done - chunk.uncompressed_offset;
      const uint64_t n = std::min<uint64_t>(length - done, chunk.uncompressed_size - within);
      absl::StatusOr<size_t> got =
          cache::ReadCachedChunk(fetcher.cache(), chunk.sha256, within, dst.subspan(done, n));
      if (absl::IsNotFound(got.status())) {
        fetcher.MarkEvicted(c);
        evicted = true;
        break;
      }
      if (!got.ok()) return got.status();
      if (*got != n) return absl::DataLossError(absl::StrCat("cached chunk ", c, " is short"));
      done += n;
    }
    if (evicted) continue;
    if (done != length) return absl::DataLossError("chunks end before the file does");
    return length;
  }
  return absl::UnavailableError("chunks were evicted from the cache while being read; cache too small?");
}

}  // namespace tide::fuse
