#ifndef TIDE_FETCH_CHUNK_FETCHER_H_
#define TIDE_FETCH_CHUNK_FETCHER_H_

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cache/chunk_cache.h"
#include "common/sha256.h"
#include "fetch/blob_source.h"
#include "fetch/chunk_stream.h"
#include "fetch/fetch_limiter.h"
#include "fetch/read_ahead_workers.h"

namespace tide::fetch {

// Where one chunk sits in the layer blob and what it must hash to.
struct ChunkRef {
  uint64_t blob_offset = 0;
  uint64_t blob_length = 0;
  uint64_t raw_length = 0;
  Sha256Bytes digest{};
};

// Decompresses chunk `index` from its blob bytes and verifies it against its digest; an error means
// the bytes must not be used.
using ChunkDecoder = std::function<absl::StatusOr<std::string>(uint32_t index, std::string_view blob_bytes)>;

struct FetcherOptions {
  // Adjacent missing chunks are fetched in one range request up to this many blob bytes.
  uint64_t max_merge_bytes = 4 << 20;
  // How long an on-demand read keeps retrying an unreachable source before failing.
  std::chrono::milliseconds read_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds retry_backoff = std::chrono::milliseconds(200);
  // A read that continues where the previous read of the same file ended also fetches up to this many
  // further bytes of that file in the same request, so cold sequential reads are not latency-bound.
  uint64_t sequential_lookahead_bytes = 4 << 20;
  // A read that starts at most this far past where the previous read of the same file ended counts
  // as continuing it: a library's static initializers run in link order and fault its code in as a
  // forward sweep with pages skipped, each fault otherwise its own round trip. 0: exact continuations
  // only.
  uint64_t sequential_gap_bytes = 2 << 20;
  // A read that reaches the end of a file also fetches up to this many blob bytes of the chunks
  // after it: the files next to it in the tar, which are usually its neighbours in the same
  // directory (a Python package imports from one range). 0: off.
  uint64_t cluster_lookahead_bytes = 4 << 20;
  // A read of a file no larger than this fetches all of the file's chunks (ReadAhead::whole): small
  // files are read whole (an importer's module, a shared library the loader maps). 0: off.
  uint64_t whole_file_bytes = 4 << 20;
  // A read of the head of a larger shared object also fetches what the dynamic loader reads of it
  // next: its headers-and-tables segment and its writable segments (format::ElfLoadRanges).
  bool loader_lookahead = true;
  // A read of the head of a Python extension module also fetches the other extension modules in its
  // directory, after the walk of its own dependencies: a package imports several of its modules one
  // after another, each otherwise a round trip (requires loader_lookahead).
  bool extension_siblings = true;
  // The walk of a shared object also fetches the code of its constructors (DT_INIT, DT_INIT_ARRAY),
  // which the loader runs right after relocating it: in a C++ library they sit together, one or two
  // chunks whose first page fault is otherwise a round trip of its own (requires loader_lookahead).
  bool constructor_code = true;
  // A read of the head of a package's compiled __init__ (`__pycache__/__init__.*.pyc`) also fetches,
  // on the walker threads, the modules of that package its names foretell: the importer reads them
  // next, each otherwise a round trip of its own (fuse::ImportWalk; needs walker threads).
  bool import_names = true;
  // The first window of a read-ahead (ReadAhead) in blob bytes; each used window doubles the next.
  // Small enough that a wrong guess costs about one chunk.
  uint64_t first_lookahead_bytes = 512 << 10;
  // A reader waiting for chunks another request carries (another reader's, a read-ahead's, a
  // prefetch stream's) fetches them itself once that request has gone this long without a byte, has
  // not started, or at its pace would not reach them within this long: a stalled connection holds it
  // no longer than this, nor does a chunk deep in a large prefetch stream. The first request is left
  // to finish. 0: wait for it.
  std::chrono::milliseconds hedge_delay{500};
};

// How far a read may look ahead: the chunks after its last one up to `last`, within `bytes` of blob.
// The window is adaptive, as the kernel's page-cache read-ahead is: a read that had to fetch starts a
// small one (one chunk), and a read that uses a chunk read ahead earlier doubles the window of that
// earlier read-ahead, up to `bytes`. A guess that was wrong costs one chunk; a walk through a
// directory or a file soon streams `bytes` ahead of the reader. The reader never waits for it.
struct ReadAhead {
  uint32_t last = 0;
  uint64_t bytes = 0;  // 0: none
  // Start a window only when the chunk before the read's first was read too: the reader walks
  // forward through the layer (a directory's files), rather than jumping to one file of it.
  bool only_when_walking = false;
  // All of (last read chunk, last] within `bytes` at once, with no window to grow into (a whole file).
  bool whole = false;
};

// Why a range request was made: a reader needed it, a startup set's prefetch, or the background
// prefetch of the rest.
enum class FetchKind { kOnDemand, kStartup, kBackground };
inline constexpr size_t kFetchKinds = 3;

struct FetcherStats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> blob_bytes{0};
  std::array<std::atomic<uint64_t>, kFetchKinds> requests_by_kind{};
  std::array<std::atomic<uint64_t>, kFetchKinds> bytes_by_kind{};
  std::atomic<uint64_t> chunks_fetched{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> verify_failures{0};  // chunks that did not decode to their digest
  // Reads (Ensure on demand) whose chunks were all in the cache already, and those that were not.
  std::atomic<uint64_t> cache_hits{0};
  std::atomic<uint64_t> cache_misses{0};
  // Background requests cut short because a container read started (the rest is fetched later).
  std::atomic<uint64_t> yields{0};
  // Chunks claimed as read-ahead, and those of them a read then used.
  std::atomic<uint64_t> read_ahead_chunks{0};
  std::atomic<uint64_t> read_ahead_used{0};
  // Read-ahead requests dropped because every read-ahead worker was busy (read_ahead_streams).
  std::atomic<uint64_t> read_ahead_refused{0};
  // Requests a waiting reader made for chunks another request carried (FetcherOptions::hedge_delay).
  std::atomic<uint64_t> hedges{0};
};

// Brings a layer's chunks into the cache: one fetch per chunk however many readers wait for it
// (single-flight), adjacent missing chunks merged into one range request, every chunk verified
// before it is cached. Thread-safe. With `workers`, a read's request that carries read-ahead runs on a
// worker thread and the reader waits only for its own chunks; without, the reader fetches them all.
// With `streams`, on-demand requests decode each chunk as its bytes arrive (ChunkStream).
class ChunkFetcher : public std::enable_shared_from_this<ChunkFetcher> {
 public:
  ChunkFetcher(std::string layer_name, std::vector<ChunkRef> chunks, ChunkDecoder decoder,
               std::shared_ptr<BlobSource> source, std::shared_ptr<cache::ChunkCache> cache,
               std::shared_ptr<FetchLimiter> limiter, FetcherOptions options,
               std::weak_ptr<ReadAheadWorkers> workers = {}, ChunkStreamFactory streams = {});
  ~ChunkFetcher();

  // Makes chunks [first, last] present in the cache, retrying failures until `deadline`, or the read
  // timeout from now when it is the default. A reader that calls again (its chunks were evicted
  // meanwhile) passes the deadline of its first call, so the read as a whole stays within one.
  // `ahead`: chunks to fetch in the same request if unclaimed, without waiting for them.
  absl::Status Ensure(uint32_t first, uint32_t last, FetchPriority priority,
                      std::chrono::steady_clock::time_point deadline = {}, ReadAhead ahead = {});
  // One attempt for prefetch: fetches what is missing in [first, last]; never waits on in-flight work.
  // Merges up to merge_bytes per request (prefetch uses larger requests than on-demand reads).
  absl::Status FetchOnce(uint32_t first, uint32_t last, uint64_t merge_bytes);
  // Read-ahead that no read waits for: fetches the chunks in [first, last] nobody has, on a read-ahead
  // worker, if one is idle (a hint from what a file is, e.g. the segments a loader will map).
  void FetchAhead(uint32_t first, uint32_t last);
  // Fails all current and future waits promptly (unmount).
  void Cancel();
  // A pass over the whole blob (the streamed diff_id check of an eStargz or zstd:chunked layer)
  // offers `bytes`, the blob from `blob_offset`: the chunks wholly inside them that nobody has or
  // is fetching are decoded, verified and cached, so that pass is also the layer's prefetch.
  // Returns the blob offset from which the caller must offer the bytes again (with what follows)
  // for the chunk that does not end within them.
  uint64_t StoreStreamed(uint64_t blob_offset, std::string_view bytes);
  // Counts a transfer made outside the fetcher (that pass) as background prefetch.
  void CountBackgroundTransfer(uint64_t bytes);

  // Prefetch reservations, so a startup set is fetched in a few large requests however the workload
  // reads it. Reserve marks the missing, unclaimed chunks among `chunks` as queued: readers then wait
  // for the prefetch request instead of fetching those chunks again, and a reader that needs one
  // before its request has started takes it over. Returns the chunks reserved.
  std::vector<uint32_t> Reserve(std::span<const uint32_t> chunks);
  // Fetches the still-queued chunks of a reservation (ascending blob order) in streamed requests of up
  // to merge_bytes, each reading over gaps of up to max_gap between its chunks: each chunk is served
  // as soon as its bytes are in.
  absl::Status FetchReserved(std::span<const uint32_t> reserved, uint64_t merge_bytes, uint64_t max_gap);
  // Gives back a reservation's still-queued chunks; readers waiting for them fetch them themselves.
  void Release(std::span<const uint32_t> reserved);
  // Cached, being fetched or reserved: read-ahead leaves such chunks to whoever has them.
  bool IsClaimed(uint32_t index);

  bool IsCached(uint32_t index);
  // Chunks known to be in the cache (no disk check): prefetch progress.
  size_t present_count() const;
  // A container's read was answered from chunks [first, last] (not a read-ahead's or a walk's Ensure).
  void NoteServed(uint32_t first, uint32_t last);
  // Blob bytes of the chunks known to be cached, and of those a container's read was answered from:
  // what read-ahead brought beyond the reads is the difference.
  struct CachedBytes {
    uint64_t cached = 0;
    uint64_t served = 0;
  };
  CachedBytes cached_bytes() const;
  bool present(uint32_t index) const { return present_[index].load(std::memory_order_relaxed); }
  // The cache lost this chunk (evicted); the next Ensure refetches it.
  void MarkEvicted(uint32_t index);
  size_t chunk_count() const { return chunks_.size(); }
  const ChunkRef& chunk(uint32_t index) const { return chunks_[index]; }
  const std::string& layer_name() const { return layer_name_; }
  const FetcherStats& stats() const { return stats_; }
  const FetcherOptions& options() const { return options_; }
  cache::ChunkCache& cache() { return *cache_; }

 private:
  // How far one range request has got; shared by the flights of the chunks it carries.
  struct Transfer {
    Transfer(uint64_t offset, std::chrono::steady_clock::time_point now)
        : blob_offset(offset), began(now), last_byte(now.time_since_epoch().count()) {}
    const uint64_t blob_offset;
    const std::chrono::steady_clock::time_point began;
    std::atomic<uint64_t> arrived{0};
    std::atomic<std::chrono::steady_clock::rep> last_byte;
  };
  struct Flight {
    bool done = false;
    bool queued = false;   // reserved by prefetch, request not started yet
    bool dropped = false;  // the reservation was given back unfetched
    // A request stored the chunk (a hedge and the request it overtook both store it; it counts once).
    std::atomic<bool> stored{false};
    absl::Status status;
    // The latest request carrying this chunk (null: none started yet).
    std::shared_ptr<const Transfer> transfer;
  };
  using FlightRef = std::pair<uint32_t, std::shared_ptr<Flight>>;
  struct Plan {
    std::vector<uint32_t> mine;                         // chunks this caller fetches
    std::vector<std::shared_ptr<Flight>> mine_flights;  // parallel to mine
    std::vector<FlightRef> others;
  };
  // How a list of claimed chunks is fetched.
  struct RunMode {
    FetchKind kind = FetchKind::kOnDemand;
    // A reader's read_timeout; background fetches have none (BlobSource::ReadInto).
    BlobSource::Deadline deadline = BlobSource::Deadline::max();
    // Store chunks on a second thread while the transfer goes on (large requests), unless an
    // on-demand request streams them.
    bool pipelined = false;
    uint64_t merge_bytes = 0;
    // Tar headers and padding sit between the chunks of consecutive files; reading over a gap this
    // small is cheaper than another request.
    uint64_t max_gap = 64 << 10;
    // The chunks are another request's (a hedge): what this request stores completes their flights,
    // but its failure is its own and leaves them to that request.
    bool hedge = false;
  };
  Plan Claim(uint32_t first, uint32_t last, bool wait_for_others);
  // Claims the chunks in (after, ahead.last] that nobody has, within ahead.bytes of blob from the
  // first of them. Lock-free when they are all present.
  std::vector<uint32_t> ClaimAhead(uint32_t after, const ReadAhead& ahead, uint8_t level);
  // Claims the chunks in [first, end) that nobody has, marked as read-ahead of `level`.
  std::vector<uint32_t> ClaimUnclaimed(uint32_t first, uint32_t end, uint8_t level);
  // Lock-free: every chunk in [first, last] is known to be cached.
  bool AllPresent(uint32_t first, uint32_t last) const;
  // Gives back read-ahead claims that will not be fetched now, with their levels.
  void DropAhead(std::span<const uint32_t> claimed);
  // The largest read-ahead level among [first, last] not used before (0: none), clearing them.
  uint8_t UseReadAhead(uint32_t first, uint32_t last);
  // Hands `run` (this reader's chunks, then read-ahead) to a worker; false when none is idle.
  bool Detach(std::vector<uint32_t> run, uint64_t merge_bytes, BlobSource::Deadline deadline);
  // The flights of `run`'s chunks (null where none is in flight), marked as carried by `transfer`.
  std::vector<std::shared_ptr<Flight>> FlightsOf(std::span<const uint32_t> run,
                                                 const std::shared_ptr<const Transfer>& transfer);
  // One range request for `run`, adjacent chunks in blob order.
  absl::Status FetchRun(const std::vector<uint32_t>& run, const RunMode& mode);
  // Caches chunk `index` decoded from `blob_bytes` (or records why it could not be) and tells the
  // waiters of `flight`.
  absl::Status StoreChunk(uint32_t index, std::string_view blob_bytes, Flight* flight, bool hedge);
  absl::Status Keep(uint32_t index, const absl::StatusOr<std::string_view>& data, Flight* flight, bool hedge);
  // Splits `mine` into range requests of up to mode.merge_bytes.
  absl::Status FetchClaimed(const std::vector<uint32_t>& mine, const RunMode& mode);
  // Gives up this fetcher's claims (only those not started, with queued_only) on chunks it will not
  // fetch now; waiting readers fetch them.
  void Drop(std::span<const uint32_t> claimed, bool queued_only = false);
  // Completes `flight` (chunk `index`), unless it is done already, and forgets it if it is still the
  // chunk's current flight. `dropped`: given back unfetched.
  void Finish(uint32_t index, Flight* flight, const absl::Status& status, bool dropped = false);
  // Whether a reader that has waited hedge_delay for `flight` should fetch chunk `index` itself. mu_
  // is held.
  bool ShouldHedge(uint32_t index, const Flight& flight, std::chrono::steady_clock::time_point now) const;
  // Fetches the chunks of `stalled` for a reader that waits on them; their flights complete when
  // this request stores them.
  absl::Status Hedge(const std::vector<FlightRef>& stalled, BlobSource::Deadline deadline);
  // Waits for `others` until `deadline`, hedging those that stall. `dropped` as for Attempt.
  absl::Status WaitForOthers(const std::vector<FlightRef>& others,
                             std::chrono::steady_clock::time_point deadline, bool* dropped);
  // `dropped`: a chunk waited for was a prefetch reservation given back unfetched (try again now).
  // `ahead_level`: the read-ahead level this read used (0: none).
  absl::Status Attempt(uint32_t first, uint32_t last, std::chrono::steady_clock::time_point deadline,
                       const ReadAhead& ahead, uint8_t ahead_level, bool* dropped);

  const std::string layer_name_;
  const std::vector<ChunkRef> chunks_;
  const ChunkDecoder decoder_;
  const ChunkStreamFactory streams_;
  const std::shared_ptr<BlobSource> source_;
  const std::shared_ptr<cache::ChunkCache> cache_;
  const std::shared_ptr<FetchLimiter> limiter_;
  const FetcherOptions options_;
  // Not owned: a worker's task may hold the last reference to this fetcher, and the workers must not
  // be destroyed from one of their own threads.
  const std::weak_ptr<ReadAheadWorkers> workers_;
  // Per chunk: known to be in the cache. Lets the hot path skip the cache's lock.
  std::unique_ptr<std::atomic<bool>[]> present_;
  // Per chunk: claimed as read-ahead with this window level and not yet read (0: neither).
  std::unique_ptr<std::atomic<uint8_t>[]> ahead_level_;
  // Per chunk: a reader asked for it (ReadAhead::only_when_walking looks at the chunk before).
  std::unique_ptr<std::atomic<bool>[]> was_read_;
  // Per chunk: a container's read was answered from it (NoteServed).
  std::unique_ptr<std::atomic<bool>[]> served_;
  std::atomic<bool> cancelled_{false};
  FetcherStats stats_;
  std::mutex mu_;
  std::condition_variable cv_;
  absl::flat_hash_map<uint32_t, std::shared_ptr<Flight>> in_flight_;
};

}  // namespace tide::fetch

#endif  // TIDE_FETCH_CHUNK_FETCHER_H_
