#include "fetch/chunk_fetcher.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"
#include "fetch/chunk_stream.h"
#include "fetch/store_pipeline.h"
#include "metrics/node_latencies.h"

namespace tide::fetch {
namespace {

// Read-ahead windows double per level; the cap keeps the shift defined (bytes cap the window first).
constexpr uint8_t kMaxAheadLevel = 24;
// FetchAhead's ranges (a loader's segments) go out in requests of up to this many blob bytes.
constexpr uint64_t kAheadRequestBytes = 32 << 20;

}  // namespace

ChunkFetcher::ChunkFetcher(std::string layer_name, std::vector<ChunkRef> chunks, ChunkDecoder decoder,
                           std::shared_ptr<BlobSource> source, std::shared_ptr<cache::ChunkCache> cache,
                           std::shared_ptr<FetchLimiter> limiter, FetcherOptions options,
                           std::weak_ptr<ReadAheadWorkers> workers, ChunkStreamFactory streams)
    : layer_name_(std::move(layer_name)),
      chunks_(std::move(chunks)),
      decoder_(std::move(decoder)),
      streams_(std::move(streams)),
      source_(std::move(source)),
      cache_(std::move(cache)),
      limiter_(std::move(limiter)),
      options_(options),
      workers_(std::move(workers)),
      present_(new std::atomic<bool>[chunks_.size()]),
      ahead_level_(new std::atomic<uint8_t>[chunks_.size()]),
      was_read_(new std::atomic<bool>[chunks_.size()]),
      served_(new std::atomic<bool>[chunks_.size()]) {
  for (size_t i = 0; i < chunks_.size(); ++i) {
    present_[i].store(false, std::memory_order_relaxed);
    ahead_level_[i].store(0, std::memory_order_relaxed);
    was_read_[i].store(false, std::memory_order_relaxed);
    served_[i].store(false, std::memory_order_relaxed);
  }
}

ChunkFetcher::~ChunkFetcher() { Cancel(); }

void ChunkFetcher::Cancel() {
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
  }
  cv_.notify_all();
}

bool ChunkFetcher::IsCached(uint32_t index) {
  if (present_[index].load(std::memory_order_acquire)) return true;
  if (!cache_->Contains(chunks_[index].digest)) return false;
  present_[index].store(true, std::memory_order_release);
  return true;
}

size_t ChunkFetcher::present_count() const {
  size_t n = 0;
  for (size_t i = 0; i < chunks_.size(); ++i) n += present_[i].load(std::memory_order_relaxed) ? 1 : 0;
  return n;
}

void ChunkFetcher::NoteServed(uint32_t first, uint32_t last) {
  // A load before the store keeps the cache line shared once every chunk of a hot file is marked.
  for (uint32_t i = first; i <= last && i < chunks_.size(); ++i) {
    if (!served_[i].load(std::memory_order_relaxed)) served_[i].store(true, std::memory_order_relaxed);
  }
}

ChunkFetcher::CachedBytes ChunkFetcher::cached_bytes() const {
  CachedBytes b;
  for (size_t i = 0; i < chunks_.size(); ++i) {
    if (!present_[i].load(std::memory_order_relaxed)) continue;
    b.cached += chunks_[i].blob_length;
    if (served_[i].load(std::memory_order_relaxed)) b.served += chunks_[i].blob_length;
  }
  return b;
}

void ChunkFetcher::MarkEvicted(uint32_t index) { present_[index].store(false, std::memory_order_release); }

ChunkFetcher::Plan ChunkFetcher::Claim(uint32_t first, uint32_t last, bool wait_for_others) {
  Plan plan;
  std::lock_guard lock(mu_);
  for (uint32_t i = first; i <= last; ++i) {
    if (IsCached(i)) continue;
    auto it = in_flight_.find(i);
    if (it == in_flight_.end()) {
      auto flight = std::make_shared<Flight>();
      plan.mine_flights.push_back(flight);
      in_flight_.emplace(i, std::move(flight));
      plan.mine.push_back(i);
    } else if (wait_for_others && it->second->queued) {
      // Needed now, but its prefetch request has not started: fetch it here rather than wait.
      it->second->queued = false;
      plan.mine_flights.push_back(it->second);
      plan.mine.push_back(i);
    } else if (wait_for_others) {
      plan.others.emplace_back(i, it->second);
    }
  }
  return plan;
}

uint8_t ChunkFetcher::UseReadAhead(uint32_t first, uint32_t last) {
  uint8_t level = 0;
  for (uint32_t i = first; i <= last; ++i) {
    if (!was_read_[i].load(std::memory_order_relaxed)) was_read_[i].store(true, std::memory_order_relaxed);
    if (ahead_level_[i].load(std::memory_order_relaxed) == 0) continue;
    const uint8_t l = ahead_level_[i].exchange(0, std::memory_order_relaxed);
    if (l == 0) continue;
    level = std::max(level, l);
    stats_.read_ahead_used.fetch_add(1, std::memory_order_relaxed);
  }
  return level;
}

std::vector<uint32_t> ChunkFetcher::ClaimAhead(uint32_t after, const ReadAhead& ahead, uint8_t level) {
  std::vector<uint32_t> claimed;
  const uint32_t end = std::min<uint64_t>(ahead.last, chunks_.size() - 1);
  if (ahead.bytes == 0 || after >= end) return claimed;
  const uint64_t from = chunks_[after + 1].blob_offset;
  uint32_t stop = after + 2;  // one past the window's last chunk; the window holds at least one
  while (stop <= end && chunks_[stop].blob_offset + chunks_[stop].blob_length - from <= ahead.bytes) ++stop;
  if (AllPresent(after + 1, stop - 1)) return claimed;
  return ClaimUnclaimed(after + 1, stop, level);
}

std::vector<uint32_t> ChunkFetcher::ClaimUnclaimed(uint32_t first, uint32_t end, uint8_t level) {
  std::vector<uint32_t> claimed;
  std::lock_guard lock(mu_);
  if (cancelled_) return claimed;
  // Chunks someone else has are skipped, not stopped at: a reader walking through a window then
  // tops it up one chunk at a time instead of draining it.
  for (uint32_t i = first; i < end; ++i) {
    if (IsCached(i) || in_flight_.contains(i)) continue;
    in_flight_.emplace(i, std::make_shared<Flight>());
    ahead_level_[i].store(level, std::memory_order_relaxed);
    claimed.push_back(i);
  }
  return claimed;
}

bool ChunkFetcher::AllPresent(uint32_t first, uint32_t last) const {
  for (uint32_t i = first; i <= last; ++i) {
    if (!present_[i].load(std::memory_order_relaxed)) return false;
  }
  return true;
}

void ChunkFetcher::DropAhead(std::span<const uint32_t> claimed) {
  for (uint32_t i : claimed) ahead_level_[i].store(0, std::memory_order_relaxed);
  Drop(claimed);
}

void ChunkFetcher::FetchAhead(uint32_t first, uint32_t last) {
  if (last >= chunks_.size() || first > last || AllPresent(first, last)) return;
  std::vector<uint32_t> claimed = ClaimUnclaimed(first, last + 1, 1);
  if (claimed.empty()) return;
  const size_t count = claimed.size();
  if (!Detach(claimed, kAheadRequestBytes, std::chrono::steady_clock::now() + options_.read_timeout)) {
    DropAhead(claimed);
    stats_.read_ahead_refused.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  stats_.read_ahead_chunks.fetch_add(count, std::memory_order_relaxed);
}

bool ChunkFetcher::Detach(std::vector<uint32_t> run, uint64_t merge_bytes, BlobSource::Deadline deadline) {
  std::shared_ptr<ReadAheadWorkers> workers = workers_.lock();
  std::shared_ptr<ChunkFetcher> self = weak_from_this().lock();
  if (workers == nullptr || self == nullptr) return false;
  return workers->TrySubmit([self = std::move(self), run = std::move(run), merge_bytes, deadline] {
    // A container is waiting on (or about to read) these chunks: background prefetch gives way.
    FetchLimiter::OnDemandScope scope(*self->limiter_);
    RunMode mode;
    mode.deadline = deadline;
    mode.pipelined = true;
    mode.merge_bytes = merge_bytes;
    absl::Status st = self->FetchClaimed(run, mode);
    if (!st.ok() && !absl::IsCancelled(st)) self->stats_.failures.fetch_add(1, std::memory_order_relaxed);
  });
}

std::vector<uint32_t> ChunkFetcher::Reserve(std::span<const uint32_t> chunks) {
  std::vector<uint32_t> reserved;
  std::lock_guard lock(mu_);
  if (cancelled_) return reserved;
  for (uint32_t i : chunks) {
    if (i >= chunks_.size() || IsCached(i) || in_flight_.contains(i)) continue;
    auto flight = std::make_shared<Flight>();
    flight->queued = true;
    in_flight_.emplace(i, std::move(flight));
    reserved.push_back(i);
  }
  return reserved;
}

absl::Status ChunkFetcher::FetchReserved(std::span<const uint32_t> reserved, uint64_t merge_bytes,
                                         uint64_t max_gap) {
  std::vector<uint32_t> mine;
  {
    std::lock_guard lock(mu_);
    for (uint32_t i : reserved) {
      auto it = in_flight_.find(i);
      if (it == in_flight_.end() || !it->second->queued) continue;  // taken over by a reader
      it->second->queued = false;
      mine.push_back(i);
    }
  }
  if (cancelled_) {
    const std::vector<std::shared_ptr<Flight>> flights = FlightsOf(mine, nullptr);
    for (size_t k = 0; k < mine.size(); ++k)
      Finish(mine[k], flights[k].get(), absl::CancelledError("unmounting"));
    return absl::CancelledError("unmounting");
  }
  RunMode mode;
  mode.kind = FetchKind::kStartup;
  mode.pipelined = true;
  mode.merge_bytes = merge_bytes;
  mode.max_gap = max_gap;
  return FetchClaimed(mine, mode);
}

void ChunkFetcher::Release(std::span<const uint32_t> reserved) { Drop(reserved, /*queued_only=*/true); }

void ChunkFetcher::Drop(std::span<const uint32_t> claimed, bool queued_only) {
  {
    std::lock_guard lock(mu_);
    for (uint32_t i : claimed) {
      auto it = in_flight_.find(i);
      if (it == in_flight_.end() || (queued_only && !it->second->queued)) continue;
      it->second->done = true;
      it->second->dropped = true;
      in_flight_.erase(it);
    }
  }
  cv_.notify_all();
}

bool ChunkFetcher::IsClaimed(uint32_t index) {
  if (IsCached(index)) return true;
  std::lock_guard lock(mu_);
  return in_flight_.contains(index);
}

void ChunkFetcher::Finish(uint32_t index, Flight* flight, const absl::Status& status, bool dropped) {
  if (flight == nullptr) return;  // a hedge completed it and it was forgotten
  {
    std::lock_guard lock(mu_);
    // A request that a hedge overtook finishes late: its result is not news, and the chunk's flight
    // may by now be a new one (evicted and claimed again) that is not this request's to end.
    if (!flight->done) {
      flight->done = true;
      flight->dropped = dropped;
      flight->status = status;
    }
    auto it = in_flight_.find(index);
    if (it != in_flight_.end() && it->second.get() == flight) in_flight_.erase(it);
  }
  cv_.notify_all();
}

std::vector<std::shared_ptr<ChunkFetcher::Flight>> ChunkFetcher::FlightsOf(
    std::span<const uint32_t> run, const std::shared_ptr<const Transfer>& transfer) {
  std::vector<std::shared_ptr<Flight>> flights;
  flights.reserve(run.size());
  std::lock_guard lock(mu_);
  for (uint32_t i : run) {
    auto it = in_flight_.find(i);
    if (it == in_flight_.end()) {
      flights.emplace_back();
      continue;
    }
    if (transfer != nullptr) it->second->transfer = transfer;
    flights.push_back(it->second);
  }
  return flights;
}

uint64_t ChunkFetcher::StoreStreamed(uint64_t blob_offset, std::string_view bytes) {
  const uint64_t end = blob_offset + bytes.size();
  // Chunks lie in ascending blob order (every index loader checks it).
  auto first = std::partition_point(chunks_.begin(), chunks_.end(),
                                    [&](const ChunkRef& c) { return c.blob_offset < blob_offset; });
  auto stop = first;
  while (stop != chunks_.end() && stop->blob_offset + stop->blob_length <= end) ++stop;
  const auto at = [&](auto it) { return static_cast<uint32_t>(it - chunks_.begin()); };
  const std::vector<uint32_t> claimed = ClaimUnclaimed(at(first), at(stop), 0);
  const std::vector<std::shared_ptr<Flight>> flights = FlightsOf(claimed, nullptr);
  for (size_t k = 0; k < claimed.size(); ++k) {
    const ChunkRef& c = chunks_[claimed[k]];
    // A chunk that fails its digest is recorded (stats, its waiters told); readers fetch it again.
    (void)StoreChunk(claimed[k], bytes.substr(c.blob_offset - blob_offset, c.blob_length), flights[k].get(),
                     /*hedge=*/false);
  }
  return stop == chunks_.end() ? end : std::min(end, stop->blob_offset);
}

void ChunkFetcher::CountBackgroundTransfer(uint64_t bytes) {
  const auto kind = static_cast<size_t>(FetchKind::kBackground);
  stats_.requests.fetch_add(1, std::memory_order_relaxed);
  stats_.requests_by_kind[kind].fetch_add(1, std::memory_order_relaxed);
  stats_.blob_bytes.fetch_add(bytes, std::memory_order_relaxed);
  stats_.bytes_by_kind[kind].fetch_add(bytes, std::memory_order_relaxed);
}

absl::Status ChunkFetcher::StoreChunk(uint32_t index, std::string_view blob_bytes, Flight* flight,
                                      bool hedge) {
  absl::StatusOr<std::string> data = decoder_(index, blob_bytes);
  if (!data.ok()) return Keep(index, data.status(), flight, hedge);
  return Keep(index, std::string_view(*data), flight, hedge);
}

absl::Status ChunkFetcher::Keep(uint32_t index, const absl::StatusOr<std::string_view>& data, Flight* flight,
                                bool hedge) {
  const ChunkRef& c = chunks_[index];
  absl::Status st = data.status();
  if (st.ok() && data->size() != c.raw_length) {
    st = absl::DataLossError(
        absl::StrCat("chunk ", index, " decoded to ", data->size(), " bytes, index says ", c.raw_length));
  }
  if (st.ok()) st = cache_->Put(c.digest, *data);
  if (st.ok()) {
    // A hedged chunk arrives twice; it was fetched once. Counted by flight, not by present_: a
    // reader's IsCached can find the chunk in the cache and mark it present between Put and here.
    const bool first = flight != nullptr ? !flight->stored.exchange(true, std::memory_order_acq_rel)
                                         : !present_[index].load(std::memory_order_acquire);
    present_[index].store(true, std::memory_order_release);
    if (first) stats_.chunks_fetched.fetch_add(1, std::memory_order_relaxed);
  } else {
    if (absl::IsDataLoss(st)) stats_.verify_failures.fetch_add(1, std::memory_order_relaxed);
    st = absl::Status(st.code(),
                      absl::StrCat("chunk ", index, " of ", source_->Describe(), ": ", st.message()));
  }
  if (st.ok() || !hedge) Finish(index, flight, st);
  return st;
}

absl::Status ChunkFetcher::FetchRun(const std::vector<uint32_t>& run, const RunMode& mode) {
  const uint64_t start = chunks_[run.front()].blob_offset;
  const uint64_t end = chunks_[run.back()].blob_offset + chunks_[run.back()].blob_length;
  const auto kind_index = static_cast<size_t>(mode.kind);
  stats_.requests.fetch_add(1, std::memory_order_relaxed);
  stats_.requests_by_kind[kind_index].fetch_add(1, std::memory_order_relaxed);
  const auto began = std::chrono::steady_clock::now();
  const auto transfer = std::make_shared<Transfer>(start, began);
  const std::vector<std::shared_ptr<Flight>> flights = FlightsOf(run, transfer);
  // Not zero-filled: every byte is written by the read before it is used.
  std::unique_ptr<char[]> buffer(new char[end - start]);
  const std::span<char> bytes(buffer.get(), end - start);
  std::mutex error_mu;
  absl::Status first_error;
  auto store_chunk = [&](size_t k, std::string_view blob_bytes) {
    return StoreChunk(run[k], blob_bytes, flights[k].get(), mode.hedge);
  };
  auto store = [&](size_t k) {
    const ChunkRef& c = chunks_[run[k]];
    absl::Status st = store_chunk(k, std::string_view(bytes.data() + (c.blob_offset - start), c.blob_length));
    std::lock_guard lock(error_mu);
    if (!st.ok() && first_error.ok()) first_error = st;
  };
  // A reader waits on an on-demand request: its chunks are decoded as their bytes come in.
  std::unique_ptr<ChunkStream> stream =
      mode.kind == FetchKind::kOnDemand && streams_ ? streams_() : std::unique_ptr<ChunkStream>();
  std::optional<StorePipeline> pipeline;
  if (mode.pipelined && stream == nullptr) pipeline.emplace(store);
  size_t next = 0;  // the first chunk of `run` whose bytes are not all in
  uint64_t arrived = 0;
  uint64_t fed = 0;  // bytes of the request fed to `stream`
  // Feeds what arrived of the chunk run[k]; true once all of it is in.
  auto feed = [&](size_t k, uint64_t received) -> absl::StatusOr<bool> {
    const ChunkRef& c = chunks_[run[k]];
    const uint64_t begin = c.blob_offset - start;
    const uint64_t finish = begin + c.blob_length;
    if (fed <= begin) {
      stream->Start(run[k]);
      fed = begin;
    }
    const uint64_t upto = std::min(received, finish);
    if (upto > fed) {
      absl::Status st = stream->Feed(std::string_view(bytes.data() + fed, upto - fed));
      if (!st.ok()) return st;
      fed = upto;
    }
    return upto == finish;
  };
  // Each chunk is stored as soon as its bytes are in, so readers of a large request's first chunks
  // do not wait for its last.
  auto deliver = [&](uint64_t received) -> absl::Status {
    arrived = std::max(arrived, received);
    transfer->arrived.store(arrived, std::memory_order_relaxed);
    transfer->last_byte.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                              std::memory_order_relaxed);
    // The next host sends the range again from its start: the chunk under way starts over.
    if (received < fed) fed = 0;
    for (; next < run.size(); ++next) {
      absl::Status st;
      if (stream != nullptr) {
        absl::StatusOr<bool> complete = feed(next, received);
        if (complete.ok() && !*complete) break;
        st = complete.ok() ? Keep(run[next], stream->Finish(), flights[next].get(), mode.hedge)
                           : Keep(run[next], complete.status(), flights[next].get(), mode.hedge);
      } else {
        const ChunkRef& c = chunks_[run[next]];
        if (c.blob_offset + c.blob_length - start > received) break;
        if (pipeline) continue;
        st = store_chunk(next, std::string_view(bytes.data() + (c.blob_offset - start), c.blob_length));
      }
      // Bytes that fail their digest condemn the host that sent them (a mirror serving wrong bytes):
      // ending the transfer with DataLoss makes the registry client cool that host down and go on
      // from the next one, whose bytes store this chunk again.
      if (absl::IsDataLoss(st)) return st;
      if (!st.ok()) {
        std::lock_guard lock(error_mu);
        if (first_error.ok()) first_error = st;
      }
    }
    if (pipeline) {
      pipeline->Arrived(next);
      std::lock_guard lock(error_mu);
      if (absl::IsDataLoss(first_error)) return first_error;
    }
    if (cancelled_) return absl::CancelledError(absl::StrCat("layer ", layer_name_, " is being unmounted"));
    if (mode.kind == FetchKind::kBackground && limiter_->on_demand_waiting()) {
      return absl::AbortedError("yielded to a container read");
    }
    // The request this one hedges caught up: the rest is stored already.
    if (mode.hedge && next < run.size() && AllPresent(run[next], run.back())) {
      return absl::AbortedError("the request it hedged stored the rest");
    }
    return absl::OkStatus();
  };
  absl::Status read = source_->ReadInto(start, bytes, deliver, mode.deadline);
  stats_.blob_bytes.fetch_add(arrived, std::memory_order_relaxed);
  stats_.bytes_by_kind[kind_index].fetch_add(arrived, std::memory_order_relaxed);
  metrics::FetchLatency().Observe(std::chrono::steady_clock::now() - began);
  if (!read.ok() && absl::IsAborted(read) && (mode.kind == FetchKind::kBackground || mode.hedge)) {
    if (pipeline) pipeline->Close();
    if (mode.hedge) return absl::OkStatus();
    // Not a failure: the chunks that arrived are stored, and whoever needs the others (a reader
    // waiting on this request, or the prefetch later) fetches them.
    stats_.yields.fetch_add(1, std::memory_order_relaxed);
    for (; next < run.size(); ++next) Finish(run[next], flights[next].get(), read, /*dropped=*/true);
    return read;
  }
  if (!read.ok()) {
    if (pipeline) pipeline->Close();
    absl::Status st(read.code(), absl::StrCat("fetch ", source_->Describe(), " range ", start, "+",
                                              end - start, ": ", read.message()));
    // A hedge's failure is its own: the request it hedged may still store these chunks.
    if (!mode.hedge) {
      for (; next < run.size(); ++next) Finish(run[next], flights[next].get(), st);
    }
    return st;
  }
  if (next < run.size()) (void)deliver(end - start);
  if (pipeline) pipeline->Close();
  return first_error;
}

absl::Status ChunkFetcher::FetchClaimed(const std::vector<uint32_t>& mine, const RunMode& mode) {
  absl::Status first_error;
  std::vector<uint32_t> run;
  bool yielded = false;
  auto flush = [&] {
    if (run.empty()) return;
    if (yielded) {
      Drop(run);  // a background fetch that gave way leaves its later runs to whoever needs them
    } else {
      absl::Status st = FetchRun(run, mode);
      yielded = mode.kind == FetchKind::kBackground && absl::IsAborted(st);
      if (first_error.ok()) first_error = st;
    }
    run.clear();
  };
  for (uint32_t i : mine) {
    if (!run.empty()) {
      const ChunkRef& prev = chunks_[run.back()];
      const uint64_t prev_end = prev.blob_offset + prev.blob_length;
      const ChunkRef& c = chunks_[i];
      bool adjacent = c.blob_offset >= prev_end && c.blob_offset - prev_end <= mode.max_gap;
      bool fits = c.blob_offset + c.blob_length - chunks_[run.front()].blob_offset <= mode.merge_bytes;
      if (!adjacent || !fits) flush();
    }
    run.push_back(i);
  }
  flush();
  return first_error;
}

bool ChunkFetcher::ShouldHedge(uint32_t index, const Flight& flight,
                               std::chrono::steady_clock::time_point now) const {
  const Transfer* t = flight.transfer.get();
  if (t == nullptr) return true;  // no request has started for it
  const auto delay = options_.hedge_delay;
  const auto last_byte = std::chrono::steady_clock::time_point(
      std::chrono::steady_clock::duration(t->last_byte.load(std::memory_order_relaxed)));
  if (now - last_byte >= delay) return true;  // stalled
  const ChunkRef& c = chunks_[index];
  const uint64_t needed = c.blob_offset + c.blob_length - t->blob_offset;
  const uint64_t arrived = t->arrived.load(std::memory_order_relaxed);
  if (arrived >= needed) return false;  // being stored now
  if (arrived == 0) return false;       // started within the delay: no pace to judge yet
  // At the pace so far, the bytes before the chunk take longer than a request of its own would
  // be worth waiting for.
  const double elapsed = std::chrono::duration<double>(now - t->began).count();
  const double rate = static_cast<double>(arrived) / std::max(elapsed, 1e-3);
  const double remaining = static_cast<double>(needed - arrived) / std::max(rate, 1.0);
  return remaining > std::chrono::duration<double>(delay).count();
}

absl::Status ChunkFetcher::Hedge(const std::vector<FlightRef>& stalled, BlobSource::Deadline deadline) {
  std::vector<uint32_t> chunks;
  chunks.reserve(stalled.size());
  for (const auto& [index, flight] : stalled) chunks.push_back(index);
  std::sort(chunks.begin(), chunks.end());
  stats_.hedges.fetch_add(1, std::memory_order_relaxed);
  RunMode mode;
  mode.deadline = deadline;
  mode.merge_bytes = options_.max_merge_bytes;
  mode.hedge = true;
  return FetchClaimed(chunks, mode);
}

absl::Status ChunkFetcher::WaitForOthers(const std::vector<FlightRef>& others,
                                         std::chrono::steady_clock::time_point deadline, bool* dropped) {
  using Clock = std::chrono::steady_clock;
  const bool hedging = options_.hedge_delay.count() > 0;
  Clock::time_point check = hedging ? Clock::now() + options_.hedge_delay : Clock::time_point::max();
  std::vector<bool> hedged(others.size(), false);
  absl::Status status;
  std::unique_lock lock(mu_);
  for (size_t k = 0; k < others.size(); ++k) {
    Flight& flight = *others[k].second;
    while (true) {
      const bool done =
          cv_.wait_until(lock, std::min(deadline, check), [&] { return flight.done || cancelled_; });
      if (cancelled_) return absl::CancelledError(absl::StrCat("layer ", layer_name_, " is being unmounted"));
      if (done) break;
      const Clock::time_point now = Clock::now();
      if (now >= deadline) return absl::DeadlineExceededError("timed out waiting for another reader's fetch");
      if (now < check) continue;
      check = now + options_.hedge_delay;
      // Each chunk is hedged once: a hedge that fails leaves it to the request it hedged.
      std::vector<FlightRef> stalled;
      for (size_t j = k; j < others.size(); ++j) {
        if (hedged[j] || others[j].second->done || !ShouldHedge(others[j].first, *others[j].second, now))
          continue;
        hedged[j] = true;
        stalled.push_back(others[j]);
      }
      if (stalled.empty()) continue;
      lock.unlock();
      (void)Hedge(stalled, deadline);
      lock.lock();
    }
    if (flight.dropped) {
      *dropped = true;  // its prefetch reservation was given back: fetch it again right away
    } else if (status.ok()) {
      status = flight.status;
    }
  }
  return status;
}

absl::Status ChunkFetcher::Attempt(uint32_t first, uint32_t last,
                                   std::chrono::steady_clock::time_point deadline, const ReadAhead& ahead,
                                   uint8_t ahead_level, bool* dropped) {
  Plan plan = Claim(first, last, /*wait_for_others=*/true);
  // A read that used earlier read-ahead widens it; a read that had to fetch starts it small; a read
  // served from the cache by other means starts none.
  uint8_t level = 0;
  if (ahead_level > 0) {
    level = static_cast<uint8_t>(std::min<int>(ahead_level + 1, kMaxAheadLevel));
  } else if (ahead.whole ||
             (!plan.mine.empty() && (!ahead.only_when_walking ||
                                     (first > 0 && was_read_[first - 1].load(std::memory_order_relaxed))))) {
    level = 1;  // a whole file always: cheap when it is there already
  }
  ReadAhead window = ahead;
  if (level == 0) {
    window.bytes = 0;
  } else if (!ahead.whole) {
    window.bytes = std::min<uint64_t>(ahead.bytes, options_.first_lookahead_bytes << (level - 1));
  }
  const std::vector<uint32_t> extra = ClaimAhead(last, window, level);
  absl::Status status;
  bool fetched = false;  // this reader's chunks are fetched or handed over
  if (!extra.empty()) {
    std::vector<uint32_t> run = plan.mine;
    run.insert(run.end(), extra.begin(), extra.end());
    const uint64_t merge_bytes = options_.max_merge_bytes + std::min(window.bytes, kAheadRequestBytes);
    if (workers_.expired()) {
      stats_.read_ahead_chunks.fetch_add(extra.size(), std::memory_order_relaxed);
      RunMode mode;
      mode.deadline = deadline;
      mode.merge_bytes = merge_bytes;
      status = FetchClaimed(run, mode);
      fetched = true;
    } else if (Detach(std::move(run), merge_bytes, deadline)) {
      stats_.read_ahead_chunks.fetch_add(extra.size(), std::memory_order_relaxed);
      // The worker stores this reader's chunks first; wait for them like for anyone else's.
      for (size_t k = 0; k < plan.mine.size(); ++k)
        plan.others.emplace_back(plan.mine[k], plan.mine_flights[k]);
      fetched = true;
    } else {
      DropAhead(extra);  // every worker is busy: read-ahead waits for a later read
      stats_.read_ahead_refused.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (!fetched) {
    RunMode mode;
    mode.deadline = deadline;
    mode.merge_bytes = options_.max_merge_bytes;
    status = FetchClaimed(plan.mine, mode);
  }
  absl::Status waited = WaitForOthers(plan.others, deadline, dropped);
  if (!waited.ok() && (status.ok() || absl::IsCancelled(waited) || absl::IsDeadlineExceeded(waited))) {
    return waited;
  }
  return status;
}

absl::Status ChunkFetcher::Ensure(uint32_t first, uint32_t last, FetchPriority priority,
                                  std::chrono::steady_clock::time_point deadline, ReadAhead ahead) {
  if (last >= chunks_.size() || first > last) {
    return absl::OutOfRangeError(absl::StrCat("chunks ", first, "..", last, " outside layer ", layer_name_));
  }
  if (priority == FetchPriority::kOnDemand) {
    limiter_->NoteRead();
    (AllPresent(first, last) ? stats_.cache_hits : stats_.cache_misses)
        .fetch_add(1, std::memory_order_relaxed);
  }
  const auto start = std::chrono::steady_clock::now();
  if (deadline == std::chrono::steady_clock::time_point{}) deadline = start + options_.read_timeout;
  const uint8_t used_level = priority == FetchPriority::kOnDemand ? UseReadAhead(first, last) : 0;
  const uint8_t ahead_level = ahead.bytes == 0 ? 0 : used_level;
  int data_loss = 0;
  while (true) {
    if (cancelled_) return absl::CancelledError(absl::StrCat("layer ", layer_name_, " is being unmounted"));
    absl::Status st;
    bool dropped = false;
    if (priority == FetchPriority::kOnDemand) {
      FetchLimiter::OnDemandScope scope(*limiter_);
      st = Attempt(first, last, deadline, ahead, ahead_level, &dropped);
    } else {
      st = Attempt(first, last, deadline, ahead, ahead_level, &dropped);
    }
    ahead = ReadAhead{};  // a retry fetches what the reader needs, nothing more
    if (st.ok() && dropped) continue;
    if (st.ok() || absl::IsCancelled(st)) return st;
    stats_.failures.fetch_add(1, std::memory_order_relaxed);
    // Corrupt data rarely heals; one retry covers a torn transfer without stalling the reader.
    if (absl::IsDataLoss(st) && ++data_loss >= 2) return st;
    auto now = std::chrono::steady_clock::now();
    if (now + options_.retry_backoff >= deadline) {
      auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - start).count();
      return absl::UnavailableError(absl::StrCat("gave up after ", waited, " ms: ", st.message()));
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, options_.retry_backoff, [&] { return cancelled_.load(); });
  }
}

absl::Status ChunkFetcher::FetchOnce(uint32_t first, uint32_t last, uint64_t merge_bytes) {
  if (cancelled_) return absl::CancelledError("unmounting");
  if (last >= chunks_.size() || first > last) return absl::OutOfRangeError("chunk range outside layer");
  Plan plan = Claim(first, last, /*wait_for_others=*/false);
  RunMode mode;
  mode.kind = FetchKind::kBackground;
  mode.merge_bytes = merge_bytes;
  return FetchClaimed(plan.mine, mode);
}

}  // namespace tide::fetch
