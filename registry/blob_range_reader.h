#ifndef TIDE_REGISTRY_BLOB_RANGE_READER_H_
#define TIDE_REGISTRY_BLOB_RANGE_READER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "registry/reference.h"

namespace tide::registry {

class ClientCore;

// Hears how many leading bytes of a ranged read have arrived; an error aborts the read with it.
using RangeProgress = std::function<absl::Status(uint64_t received)>;

// A read given this deadline is bounded only by the transport's low-speed limit.
inline constexpr std::chrono::steady_clock::time_point kNoDeadline =
    std::chrono::steady_clock::time_point::max();

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Ranged reads of one blob, for lazy chunk fetches. Thread-safe; concurrent calls use separate
// pooled connections. Keeps the client's internals alive, so it may outlive the RegistryClient.
class BlobRangeReader {
 public:
  BlobRangeReader(std::shared_ptr<ClientCore> core, Reference repo, Digest digest, uint64_t size);

  uint64_t size() const { return size_; }
  const Digest& digest() const { return digest_; }
  const Reference& repo() const { return repo_; }

  // Exactly out.size() bytes at offset into out, with no allocation on the data path beyond curl's.
  // `progress` (optional) hears how many leading bytes of `out` have arrived, so a caller can use them
  // before the whole range is in; an error from it aborts the read with that error. Past `deadline`,
  // retries included, the read fails with kDeadlineExceeded.
  absl::Status ReadInto(uint64_t offset, std::span<char> out, const RangeProgress& progress = {},
                        std::chrono::steady_clock::time_point deadline = kNoDeadline);
  absl::StatusOr<std::string> ReadAt(uint64_t offset, uint64_t length);
  // Ranges fetched concurrently (bounded by max_concurrent_ranges); all succeed or the first error
  // is returned.
  absl::StatusOr<std::vector<std::string>> ReadRanges(std::span<const ByteRange> ranges);
  // Same, into caller buffers (outs[i].size() == ranges[i].length).
  absl::Status ReadRangesInto(std::span<const ByteRange> ranges, std::span<const std::span<char>> outs);

 private:
  absl::Status CheckRange(uint64_t offset, uint64_t length) const;

  std::shared_ptr<ClientCore> core_;
  Reference repo_;
  Digest digest_;
  uint64_t size_;
};

}  // namespace tide::registry

#endif  // TIDE_REGISTRY_BLOB_RANGE_READER_H_
