#ifndef TIDE_FETCH_BLOB_SOURCE_H_
#define TIDE_FETCH_BLOB_SOURCE_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace tide::fetch {

// Ranged reads of one layer blob, wherever it lives (registry, OCI layout, plain file).
// Implementations must be thread-safe: the fetcher and the prefetcher call concurrently.
class BlobSource {
 public:
  virtual ~BlobSource() = default;
  // Returns exactly `length` bytes at `offset`, or an error naming the blob and the cause.
  virtual absl::StatusOr<std::string> ReadAt(uint64_t offset, uint64_t length) = 0;
  // Reads exactly out.size() bytes at `offset` into `out`. Sources that stream call `progress` with the
  // number of leading bytes of `out` that have arrived, so large prefetch requests can be used before
  // they end; an error from `progress` aborts the read with that error. Sources that wait on a
  // network end the read with kDeadlineExceeded at `deadline` (time_point::max(): no deadline).
  // The default reads it all with ReadAt and reports once.
  using Progress = std::function<absl::Status(uint64_t received)>;
  using Deadline = std::chrono::steady_clock::time_point;
  virtual absl::Status ReadInto(uint64_t offset, std::span<char> out, const Progress& progress,
                                Deadline deadline);
  // Human-readable name for log lines (e.g. "registry.local/app@sha256:...").
  virtual std::string Describe() const = 0;
};

// A blob stored as a local file, e.g. blobs/sha256/<hex> in an OCI layout.
class FileBlobSource : public BlobSource {
 public:
  static absl::StatusOr<std::unique_ptr<FileBlobSource>> Open(const std::filesystem::path& path);
  absl::StatusOr<std::string> ReadAt(uint64_t offset, uint64_t length) override;
  std::string Describe() const override { return path_.string(); }
  uint64_t size() const { return size_; }

 private:
  FileBlobSource(std::filesystem::path path, UniqueFd fd, uint64_t size)
      : path_(std::move(path)), fd_(std::move(fd)), size_(size) {}
  std::filesystem::path path_;
  UniqueFd fd_;
  uint64_t size_;
};

}  // namespace tide::fetch

#endif  // TIDE_FETCH_BLOB_SOURCE_H_
