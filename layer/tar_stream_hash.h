#ifndef TIDE_LAYER_TAR_STREAM_HASH_H_
#define TIDE_LAYER_TAR_STREAM_HASH_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "common/digest.h"
#include "common/sha256.h"

namespace tide::layer {

// At most this many bytes of zero blocks may follow the end-of-archive marker of a decompressed
// layer stream for it to stand for a diff_id (TarStreamHash): a record of 128 blocks, six times GNU
// tar's default of 20.
inline constexpr uint64_t kMaxTarRecordPadding = 64 << 10;

// Hashes a layer tar as it is decompressed, to be checked against the diff_id the image config names.
// Some writers drop the zero padding that the source tar had after its end-of-archive marker:
// containers/storage's zstd:chunked writer (skopeo, podman) ends the stream at the marker, while the
// image config keeps the source tar's diff_id, and GNU tar pads archives to 10240-byte records. Zero
// blocks after the marker add no entry and change none, so such a stream is the diff_id's archive when
// the stream with those blocks put back hashes to it.
class TarStreamHash {
 public:
  void Update(std::string_view bytes);
  // OK when the stream hashes to `diff_id`, or when it ends at a block boundary with the two zero
  // blocks of an end-of-archive marker and hashes to `diff_id` with up to kMaxTarRecordPadding bytes
  // of zero blocks added. DataLoss naming the stream's own digest otherwise.
  absl::Status Check(const Digest& diff_id) const;

 private:
  Sha256 sha_;
  uint64_t size_ = 0;
  uint64_t zero_tail_ = 0;  // zero bytes at the end of the stream so far
};

}  // namespace tide::layer

#endif  // TIDE_LAYER_TAR_STREAM_HASH_H_
