#include "layer/stargz_toc_cache.h"

#include <sys/stat.h>

#include <span>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "format/estargz/stargz_toc_index.h"

namespace tide::layer {

absl::Status KeepStargzToc(cache::ChunkCache& cache, const Digest& toc_digest, std::string_view json) {
  if (cache.Contains(toc_digest.bytes())) return absl::OkStatus();
  return cache.Put(toc_digest.bytes(), json);
}

absl::StatusOr<format::LayerIndex> LoadKeptStargzToc(cache::ChunkCache& cache, const Digest& toc_digest,
                                                     const KeptStargzToc& kept,
                                                     const format::IndexLimits& limits) {
  if (kept.format != format::LayerFormat::kEstargz && kept.format != format::LayerFormat::kZstdChunked)
    return absl::InvalidArgumentError("a kept stargz TOC is eStargz or zstd:chunked");
  const absl::Status not_cached =
      absl::NotFoundError(absl::StrCat("stargz TOC ", toc_digest.str(), " not cached"));
  struct stat st {};
  {
    absl::StatusOr<UniqueFd> fd = cache.OpenChunk(toc_digest.bytes());
    if (!fd.ok() || fstat(fd->get(), &st) != 0) return not_cached;
  }
  // The same bound as a TOC read from the blob.
  const uint64_t max_json = limits.max_memory / 8;
  if (st.st_size <= 0 || static_cast<uint64_t>(st.st_size) > max_json) {
    return absl::ResourceExhaustedError(absl::StrCat("cached stargz TOC ", toc_digest.str(), " of ",
                                                     st.st_size, " bytes is outside 1..", max_json));
  }
  std::string json(static_cast<size_t>(st.st_size), '\0');
  absl::StatusOr<size_t> n = cache.Read(toc_digest.bytes(), 0, std::span<char>(json.data(), json.size()));
  if (!n.ok() || *n != json.size()) return not_cached;
  // The cache checks a file when this process first opens it; hash again so that nothing a
  // restart builds from disk is trusted on the cache's word alone.
  if (Digest::Of(json) != toc_digest)
    return absl::NotFoundError(absl::StrCat("cached stargz TOC ", toc_digest.str(), " does not match it"));
  return format::IndexFromStargzToc(json, kept.toc_offset, kept.format, limits);
}

}  // namespace tide::layer
