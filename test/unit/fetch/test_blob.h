#ifndef TIDE_TEST_UNIT_FETCH_TEST_BLOB_H_
#define TIDE_TEST_UNIT_FETCH_TEST_BLOB_H_

#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cache/chunk_cache.h"
#include "fetch/blob_source.h"
#include "fetch/chunk_fetcher.h"
#include "test/support/temp_dir.h"

namespace tide::fetch::testing {

// A blob of independent zstd frames with small filler gaps between them (like tar headers in a
// tide layer), written to a real file, plus the chunk table that describes it.
struct TestBlob {
  std::vector<std::string> raw;
  std::vector<ChunkRef> chunks;
  std::filesystem::path path;
};

inline TestBlob MakeTestBlob(const std::filesystem::path& path, int count, size_t chunk_size) {
  TestBlob blob;
  blob.path = path;
  std::mt19937 rng(42);
  std::string bytes;
  for (int i = 0; i < count; ++i) {
    std::string raw(chunk_size, '\0');
    for (auto& c : raw) c = static_cast<char>('a' + rng() % 8);  // compressible but distinct
    std::string frame(ZSTD_compressBound(raw.size()), '\0');
    frame.resize(ZSTD_compress(frame.data(), frame.size(), raw.data(), raw.size(), 1));
    bytes.append(512, 'h');
    blob.chunks.push_back({bytes.size(), frame.size(), raw.size(), Sha256Of(raw)});
    bytes += frame;
    blob.raw.push_back(std::move(raw));
  }
  tide::testing::WriteFile(path, bytes);
  return blob;
}

// Chunk `i` of `blob` as `cache` holds it.
inline absl::StatusOr<std::string> CachedChunk(cache::ChunkCache& cache, const TestBlob& blob, uint32_t i) {
  std::string out(blob.raw[i].size(), '\0');
  absl::StatusOr<size_t> n = cache.Read(blob.chunks[i].digest, 0, std::span<char>(out.data(), out.size()));
  if (!n.ok()) return n.status();
  return out;
}

inline ChunkDecoder ZstdDecoder(const std::vector<ChunkRef>& chunks) {
  return [chunks](uint32_t i, std::string_view in) -> absl::StatusOr<std::string> {
    std::string out(chunks[i].raw_length, '\0');
    size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
    if (ZSTD_isError(n)) return absl::DataLossError(absl::StrCat("zstd: ", ZSTD_getErrorName(n)));
    out.resize(n);
    if (Sha256Of(out) != chunks[i].digest) return absl::DataLossError("sha256 mismatch");
    return out;
  };
}

// A real file blob whose reads can be counted, failed (source down) or corrupted (bad server).
class FlakyFileSource : public BlobSource {
 public:
  explicit FlakyFileSource(std::unique_ptr<FileBlobSource> inner) : inner_(std::move(inner)) {}
  absl::StatusOr<std::string> ReadAt(uint64_t offset, uint64_t length) override {
    reads++;
    if (down) return absl::UnavailableError("connection refused");
    auto data = inner_->ReadAt(offset, length);
    if (data.ok() && corrupt && !data->empty()) (*data)[data->size() / 2] ^= 0x5a;
    return data;
  }
  std::string Describe() const override { return inner_->Describe(); }
  std::atomic<int> reads{0};
  std::atomic<bool> down{false};
  std::atomic<bool> corrupt{false};

 private:
  std::unique_ptr<FileBlobSource> inner_;
};

// A file blob that logs each read (offset, length) and can hold reads at chosen offsets until the
// test opens the gate. ReadInto streams: it reports the first half of a range, then (if the range's
// offset is held) waits at the gate, then reports the rest (in more steps if asked).
class GatedSource : public BlobSource {
 public:
  explicit GatedSource(std::unique_ptr<FileBlobSource> inner) : inner_(std::move(inner)) {}
  absl::StatusOr<std::string> ReadAt(uint64_t offset, uint64_t length) override {
    Log(offset, length);
    WaitGate(offset);
    return inner_->ReadAt(offset, length);
  }
  absl::Status ReadInto(uint64_t offset, std::span<char> out, const Progress& progress,
                        Deadline /*deadline*/) override {
    Log(offset, out.size());
    auto data = inner_->ReadAt(offset, out.size());
    if (!data.ok()) return data.status();
    std::memcpy(out.data(), data->data(), out.size());
    const uint64_t step = out.size() / steps_;
    if (absl::Status st = progress(step); !st.ok()) return st;
    WaitGate(offset);
    for (int k = 2; k < steps_; ++k) {
      if (absl::Status st = progress(step * static_cast<uint64_t>(k)); !st.ok()) return st;
    }
    return progress(out.size());
  }
  // ReadInto reports the range in this many equal steps (default 2), the gate after the first.
  void SetSteps(int steps) { steps_ = steps; }
  // Opens the gate of one held offset only.
  void Release(uint64_t offset) {
    {
      std::lock_guard lock(mu_);
      held_.erase(std::remove(held_.begin(), held_.end(), offset), held_.end());
    }
    cv_.notify_all();
  }
  std::string Describe() const override { return inner_->Describe(); }

  void Hold(uint64_t offset) {
    std::lock_guard lock(mu_);
    held_.push_back(offset);
  }
  void Open() {
    {
      std::lock_guard lock(mu_);
      held_.clear();
    }
    cv_.notify_all();
  }
  std::vector<std::pair<uint64_t, uint64_t>> log() {
    std::lock_guard lock(mu_);
    return log_;
  }

 private:
  void Log(uint64_t offset, uint64_t length) {
    std::lock_guard lock(mu_);
    log_.emplace_back(offset, length);
  }
  void WaitGate(uint64_t offset) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return std::find(held_.begin(), held_.end(), offset) == held_.end(); });
  }
  std::unique_ptr<FileBlobSource> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<uint64_t> held_;
  std::atomic<int> steps_{2};
  std::vector<std::pair<uint64_t, uint64_t>> log_;
};

}  // namespace tide::fetch::testing

#endif  // TIDE_TEST_UNIT_FETCH_TEST_BLOB_H_
