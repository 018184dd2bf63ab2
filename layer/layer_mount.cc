#include "layer/layer_mount.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "fetch/background_priority.h"
#include "format/blob_reader.h"
#include "format/chunk_decoder.h"
#include "format/estargz/estargz_reader.h"
#include "format/estargz/stargz_toc_index.h"
#include "format/gzip_index/gzip_index_reader.h"
#include "format/zstd_chunked/containers_storage_toc.h"
#include "layer/content_verifier.h"
#include "layer/index_chunk_stream.h"
#include "layer/xattr_shadow.h"

namespace tide::layer {
namespace {

// A tide layer's chunks and a gzip side index's spans tile the layer tar; a stargz TOC's chunks
// (eStargz, zstd:chunked) hold file contents only.
bool TarTilesChunks(format::LayerFormat format) {
  return format == format::LayerFormat::kTide || format == format::LayerFormat::kGzipIndexed;
}

// Lets the format reader pull index bytes through any BlobSource.
class SourceRangeReader : public format::RangeReader {
 public:
  explicit SourceRangeReader(fetch::BlobSource& source) : source_(source) {}
  absl::Status ReadAt(uint64_t offset, size_t size, std::string* out) override {
    TIDE_ASSIGN_OR_RETURN(*out, source_.ReadAt(offset, size));
    return absl::OkStatus();
  }

 private:
  fetch::BlobSource& source_;
};

// Serves index bytes from a cached copy of the index frame when they fall inside it.
class CachedIndexReader : public format::RangeReader {
 public:
  CachedIndexReader(std::string frame, uint64_t offset) : frame_(std::move(frame)), offset_(offset) {}
  absl::Status ReadAt(uint64_t offset, size_t size, std::string* out) override {
    if (offset < offset_ || offset - offset_ + size > frame_.size()) {
      return absl::OutOfRangeError("range outside the cached index frame");
    }
    out->assign(frame_, offset - offset_, size);
    return absl::OkStatus();
  }

 private:
  std::string frame_;
  uint64_t offset_;
};

absl::StatusOr<std::shared_ptr<const format::LayerIndex>> LoadCachedSideIndex(
    const IndexLocation& where, cache::ChunkCache& cache, const format::IndexLimits& limits) {
  if (where.digest.empty() || where.blob_size == 0)
    return absl::InvalidArgumentError(
        "gzip side index location needs its digest, its size and the blob size");
  TIDE_RETURN_IF_ERROR(
      format::CheckIndexFrameSize(absl::StrCat("gzip side index ", where.digest.str()), where.size));
  std::string frame(where.size, '\0');
  absl::StatusOr<size_t> n = cache.Read(where.digest.bytes(), 0, std::span<char>(frame.data(), frame.size()));
  if (!n.ok() || *n != frame.size() || Digest::Of(frame) != where.digest)
    return absl::NotFoundError(absl::StrCat("gzip side index ", where.digest.str(), " not cached"));
  absl::StatusOr<format::LayerIndex> index =
      format::LoadGzipIndex(frame, where.layer_digest, where.blob_size, limits);
  if (!index.ok()) {
    return absl::Status(index.status().code(),
                        absl::StrCat("gzip side index ", where.digest.str(), ": ", index.status().message()));
  }
  return std::make_shared<const format::LayerIndex>(std::move(*index));
}

// The index from the bytes at `where` (from the blob or the cache), verified against where.digest: a
// tide index frame, or containers/storage's compressed zstd:chunked TOC.
absl::StatusOr<format::LayerIndex> IndexFromFrame(std::string frame, const IndexLocation& where,
                                                  const format::IndexLimits& limits) {
  if (where.format == format::LayerFormat::kZstdChunked)
    return format::LoadContainersStorageToc(frame, where.offset, where.digest, limits);
  CachedIndexReader reader(std::move(frame), where.offset);
  return format::LoadIndexAt(reader, where.offset, where.size, where.digest, limits);
}

// An eStargz or zstd:chunked layer's index: from the TOC kept in the cache when restoring, else from
// the blob, keeping the verified TOC for a later restore.
absl::StatusOr<std::shared_ptr<const format::LayerIndex>> LoadStargzTocIndex(
    fetch::BlobSource& blob, const IndexLocation& where, cache::ChunkCache* cache,
    const format::IndexLimits& limits) {
  if (cache != nullptr && where.kept_toc) {
    absl::StatusOr<format::LayerIndex> kept =
        LoadKeptStargzToc(*cache, where.digest, *where.kept_toc, limits);
    if (kept.ok()) return std::make_shared<const format::LayerIndex>(std::move(*kept));
    log::Warn("kept stargz TOC unusable, reading it from the blob",
              {{"toc", where.digest.str()}, {"error", kept.status().message()}});
  }
  if (where.blob_size == 0) return absl::InvalidArgumentError("an eStargz layer needs its blob size");
  SourceRangeReader reader(blob);
  TIDE_ASSIGN_OR_RETURN(format::StargzToc toc,
                        format::ReadStargzToc(reader, where.blob_size, where.digest, limits));
  TIDE_ASSIGN_OR_RETURN(format::LayerIndex index,
                        format::IndexFromStargzToc(toc.json, toc.toc_offset, toc.format, limits));
  if (cache != nullptr) {
    absl::Status kept = KeepStargzToc(*cache, where.digest, toc.json);
    if (!kept.ok())
      log::Warn("keeping stargz TOC failed", {{"toc", where.digest.str()}, {"error", kept.message()}});
  }
  return std::make_shared<const format::LayerIndex>(std::move(index));
}

}  // namespace

std::vector<fetch::ChunkRef> ChunkRefs(const format::LayerIndex& index) {
  std::vector<fetch::ChunkRef> refs;
  refs.reserve(index.chunks().size());
  for (const format::ChunkInfo& c : index.chunks()) {
    refs.push_back({c.compressed_offset, c.compressed_size, c.uncompressed_size, c.sha256});
  }
  return refs;
}

fetch::ChunkDecoder IndexChunkDecoder(std::shared_ptr<const format::LayerIndex> index) {
  return [index = std::move(index)](uint32_t i, std::string_view compressed) {
    return format::DecodeIndexChunk(*index, i, compressed);
  };
}

absl::StatusOr<std::shared_ptr<const format::LayerIndex>> LoadCachedLayerIndex(
    const IndexLocation& where, cache::ChunkCache& cache, const format::IndexLimits& limits) {
  if (where.format == format::LayerFormat::kGzipIndexed) return LoadCachedSideIndex(where, cache, limits);
  if (where.format != format::LayerFormat::kTide && where.format != format::LayerFormat::kZstdChunked)
    return absl::NotFoundError("only index frames, zstd:chunked TOCs and gzip side indexes are cached");
  if (where.digest.empty() || where.size > format::kMaxIndexFrameSize)
    return absl::NotFoundError("no index digest to look up in the cache");
  const Sha256Bytes key = where.digest.bytes();
  if (!cache.Contains(key))
    return absl::NotFoundError(absl::StrCat("index ", where.digest.str(), " not cached"));
  std::string frame(where.size, '\0');
  absl::StatusOr<size_t> n = cache.Read(key, 0, std::span<char>(frame.data(), frame.size()));
  if (!n.ok()) return absl::NotFoundError(absl::StrCat("index ", where.digest.str(), " not cached"));
  if (*n != frame.size()) return absl::DataLossError("cached index frame is shorter than its location says");
  TIDE_ASSIGN_OR_RETURN(format::LayerIndex index, IndexFromFrame(std::move(frame), where, limits));
  return std::make_shared<const format::LayerIndex>(std::move(index));
}

absl::StatusOr<std::shared_ptr<const format::LayerIndex>> LoadLayerIndex(fetch::BlobSource& blob,
                                                                         const IndexLocation& where,
                                                                         cache::ChunkCache* cache,
                                                                         const format::IndexLimits& limits) {
  // The location comes from annotations; bound it before it sizes a buffer. Zero: unknown (a footer
  // or the TOC's own footer locates it).
  if (where.size != 0) TIDE_RETURN_IF_ERROR(format::CheckIndexFrameSize("the layer's index", where.size));
  if (where.format == format::LayerFormat::kGzipIndexed) {
    if (cache == nullptr)
      return absl::FailedPreconditionError("a gzip side index is read from the chunk cache");
    return LoadCachedSideIndex(where, *cache, limits);
  }
  if (where.format == format::LayerFormat::kEstargz) return LoadStargzTocIndex(blob, where, cache, limits);
  if (where.digest.empty()) {
    if (where.blob_size == 0)
      return absl::InvalidArgumentError("index location needs a digest or the blob size");
    SourceRangeReader reader(blob);
    TIDE_ASSIGN_OR_RETURN(format::LayerIndex index,
                          format::LoadIndexFromFooter(reader, where.blob_size, limits));
    return std::make_shared<const format::LayerIndex>(std::move(index));
  }
  const Sha256Bytes key = where.digest.bytes();
  if (cache != nullptr) {
    auto cached = LoadCachedLayerIndex(where, *cache, limits);
    if (cached.ok()) return cached;
    if (!absl::IsNotFound(cached.status())) {
      log::Warn("cached index unusable, fetching it again",
                {{"index", where.digest.str()}, {"error", cached.status().message()}});
    }
  }
  TIDE_ASSIGN_OR_RETURN(std::string frame, blob.ReadAt(where.offset, where.size));
  TIDE_ASSIGN_OR_RETURN(format::LayerIndex index, IndexFromFrame(frame, where, limits));
  // The loader verified the frame against the digest, so it may be cached under it.
  if (cache != nullptr) {
    absl::Status st = cache->Put(key, frame);
    if (!st.ok()) log::Warn("caching index failed", {{"index", where.digest.str()}, {"error", st.message()}});
  }
  return std::make_shared<const format::LayerIndex>(std::move(index));
}

absl::StatusOr<std::unique_ptr<LayerMount>> LayerMount::Create(
    std::string layer_name, std::shared_ptr<fetch::BlobSource> blob,
    std::shared_ptr<const format::LayerIndex> index, std::shared_ptr<cache::ChunkCache> cache,
    std::shared_ptr<fetch::PrefetchQueue> queue, const std::filesystem::path& mountpoint,
    const LayerMountOptions& options, UniqueFd adopt) {
  std::unique_ptr<LayerMount> m(new LayerMount());
  m->name_ = std::move(layer_name);
  m->index_ = std::move(index);
  m->blob_ = blob;
  // An index that names a diff_id (tide, a gzip side index) must name the one the image config does.
  if (!m->index_->diff_id().empty() && !options.diff_id.empty() && m->index_->diff_id() != options.diff_id) {
    return absl::FailedPreconditionError(absl::StrCat("index of ", m->name_, " names diff_id ",
                                                      m->index_->diff_id().str(), ", the image config ",
                                                      options.diff_id.str()));
  }
  m->diff_id_ = m->index_->diff_id().empty() ? options.diff_id : m->index_->diff_id();
  m->blob_size_ = options.blob_size;
  const format::LayerIndex* idx = m->index_.get();
  fetch::ChunkDecoder decoder = IndexChunkDecoder(m->index_);
  std::span<const uint32_t> startup = idx->startup_chunks();
  std::span<const uint32_t> ranks = idx->startup_ranks();
  LearnedStartup learned;
  if (startup.empty() && options.learned_startup) {
    learned = options.learned_startup(*idx);
    startup = learned.chunks;
    ranks = learned.ranks;
  }
  fetch::PrefetchPlan plan =
      fetch::MakePrefetchPlan(options.prefetch, startup, ranks, static_cast<uint32_t>(idx->chunks().size()));
  m->streamed_rest_ = plan.rest && !TarTilesChunks(idx->format());
  if (m->streamed_rest_) plan.rest = false;
  fetch::FetcherOptions fetcher_options = options.fetcher;
  // A startup set says what startup reads; guessing from file order or content would only compete
  // with it. Exact sequential read-ahead stays: it follows a reader, never leads it (a sparse sweep's
  // gaps are guesses).
  if (!plan.startup.empty()) {
    fetcher_options.sequential_gap_bytes = 0;
    fetcher_options.cluster_lookahead_bytes = 0;
    fetcher_options.whole_file_bytes = 0;
    fetcher_options.loader_lookahead = false;
  }
  m->limiter_ = queue->limiter();
  m->fetcher_ = std::make_shared<fetch::ChunkFetcher>(
      m->name_, ChunkRefs(*idx), std::move(decoder), std::move(blob), std::move(cache), queue->limiter(),
      fetcher_options, options.read_ahead_workers, IndexChunkStreams(m->index_));
  if (options.record_access) m->recorder_ = std::make_shared<AccessRecorder>();
  m->fs_ = std::make_unique<fuse::LayerFs>(m->index_, m->fetcher_, m->recorder_, options.kernel, options.ids,
                                           options.loader_walkers, options.lower_loader_walks);
  const bool built_shadow = m->UseXattrShadow(options.xattr_shadow);
  fuse::FuseMountOptions fuse_options = options.fuse;
  // Startup sets and learned profiles are recorded with the startup window: a wider one would ask
  // for pages outside the set while startup runs, and record pages startup never reads.
  fuse_options.readahead_kb = options.kernel.startup_readahead_kb;
  const bool adopted = adopt.valid();
  if (adopted) {
    TIDE_ASSIGN_OR_RETURN(m->fuse_, fuse::FuseMount::Adopt(mountpoint, std::move(adopt), fuse::LayerFs::Ops(),
                                                           m->fs_.get(), fuse_options));
  } else {
    absl::StatusOr<std::unique_ptr<fuse::FuseMount>> started =
        fuse::FuseMount::Start(mountpoint, fuse::LayerFs::Ops(), m->fs_.get(), fuse_options);
    if (!started.ok()) {
      if (built_shadow) RemoveXattrShadow(options.xattr_shadow.dir);
      return started.status();
    }
    m->fuse_ = std::move(*started);
  }
  m->queue_ = std::move(queue);
  // An adopted mount widens too: the previous daemon may have stopped before its workload started,
  // and the window would stay narrow for the mount's life. Widening a wide one changes nothing.
  if (options.kernel.readahead_kb != options.kernel.startup_readahead_kb) {
    m->widen_hook_ = m->queue_->WhenStarted([mount = m.get(), kb = options.kernel.readahead_kb] {
      mount->fuse_->SetReadaheadKb(kb);
      log::Info("workload started: kernel read-ahead widened",
                {{"layer", mount->name_}, {"kb", absl::StrCat(kb)}});
    });
  }
  // What is local before the prefetch starts; an adopted mount's kernel caches already hold what its
  // containers read.
  if (options.warm_page_cache && !adopted) {
    for (uint32_t chunk : startup) {
      if (m->fetcher_->IsCached(chunk)) m->warmed_chunks_.push_back(chunk);
    }
  }
  if (!plan.empty()) m->prefetcher_ = std::make_unique<fetch::Prefetcher>(m->queue_, m->fetcher_, plan);
  if (!m->warmed_chunks_.empty()) m->StartWarmer(mountpoint);
  // A layer with nothing but a streamed rest still tells the queue a workload may be starting.
  if (m->streamed_rest_ && plan.empty()) m->queue_->NoteMount();
  if (plan.rest || m->streamed_rest_)
    m->verifier_ = std::thread([mount = m.get()] { mount->VerifyWhenFetched(); });
  return m;
}

bool LayerMount::UseXattrShadow(const LayerMountOptions::XattrShadow& shadow) {
  if (shadow.dir.empty() || !fs_->serves_xattrs()) return false;
  if (!shadow.build) {
    if (HasXattrShadow(shadow.dir)) fs_->LeaveXattrsToShadow();
    return false;
  }
  const auto began = std::chrono::steady_clock::now();
  absl::Status built = BuildXattrShadow(*fs_, shadow.dir);
  if (!built.ok()) {
    log::Info("layer serves its own xattrs", {{"layer", name_}, {"reason", Sv(built.message())}});
    return false;
  }
  fs_->LeaveXattrsToShadow();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
  log::Info("layer xattrs handed to a local shadow", {{"layer", name_}, {"ms", absl::StrCat(ms.count())}});
  return true;
}

void LayerMount::StartWarmer(const std::filesystem::path& mountpoint) {
  fuse::PageCacheWarmer::Source source;
  source.startup = warmed_chunks_;
  source.present = [fetcher = fetcher_.get()](uint32_t chunk) { return fetcher->IsCached(chunk); };
  warmer_ = fuse::PageCacheWarmer::Start(mountpoint, *fs_, std::move(source));
}

const char* LayerMount::prefetch_state() const {
  const bool planned = prefetcher_ != nullptr || streamed_rest_;
  if (!planned) return "none";
  const bool startup_done = prefetcher_ == nullptr || prefetcher_->done();
  const bool rest_done = !streamed_rest_ || (rest_done_.load(std::memory_order_acquire) &&
                                             (rest_prefetcher_ == nullptr || rest_prefetcher_->done()));
  return startup_done && rest_done ? "done" : "running";
}

absl::Status LayerMount::StreamRestAndVerify() {
  StreamedCheckOptions check;
  check.limiter = limiter_.get();
  check.fill = fetcher_.get();
  check.may_run = [queue = queue_] { return queue->RestMayRun(); };
  absl::Status verified =
      VerifyStreamedLayer(*blob_, blob_size_, index_->format(), diff_id_, check, stopping_);
  if (!absl::IsDataLoss(verified) && !stopping_.load(std::memory_order_relaxed) &&
      fetcher_->present_count() < fetcher_->chunk_count()) {
    fetch::PrefetchPlan rest;
    rest.rest = true;
    rest_prefetcher_ = std::make_unique<fetch::Prefetcher>(queue_, fetcher_, rest);
  }
  rest_done_.store(true, std::memory_order_release);
  return verified;
}

void LayerMount::VerifyWhenFetched() {
  // Hashing a whole layer is background work, like the prefetch it follows: it must not take CPU or
  // I/O from a container's reads.
  fetch::LowerCurrentThreadPriority();
  while (prefetcher_ != nullptr && !prefetcher_->WaitDone(std::chrono::milliseconds(200))) {
    if (stopping_.load(std::memory_order_relaxed)) return;
  }
  // The chunks of a tide layer and of a gzip side index tile the tar, which is hashed from the
  // cache once the rest is in. A stargz TOC's chunks hold file contents only, so that tar is read
  // from the blob, and the same pass fetches the rest.
  absl::Status verified =
      streamed_rest_ ? StreamRestAndVerify() : VerifyLayerTar(*index_, *fetcher_, stopping_);
  if (verified.ok()) {
    log::Info("layer verified against its diff_id", {{"layer", name_}, {"diff_id", diff_id_.str()}});
    return;
  }
  if (!absl::IsDataLoss(verified)) {
    log::Info("layer not verified", {{"layer", name_}, {"reason", verified.message()}});
    return;
  }
  fs_->Poison();
  // Pages the kernel already holds would still be served without asking: drop them.
  for (format::EntryId id = 0; id < index_->entry_count(); ++id) {
    if (index_->attr(id).type == format::EntryType::kRegular) fuse_->InvalidateData(id + 1);
  }
  log::Error("layer poisoned: its content is not what the image commits to",
             {{"layer", name_}, {"error", verified.message()}});
}

LayerMount::~LayerMount() {
  stopping_ = true;
  // Cancelling first makes a running prefetch request end now rather than finish its transfer.
  if (fetcher_) fetcher_->Cancel();
  warmer_.reset();  // its reads need the FUSE session
  if (widen_hook_) queue_->ForgetStarted(*widen_hook_);
  if (verifier_.joinable()) verifier_.join();
  rest_prefetcher_.reset();
  prefetcher_.reset();
  fuse_.reset();
}

}  // namespace tide::layer
