#ifndef TIDE_FORMAT_INDEX_LIMITS_H_
#define TIDE_FORMAT_INDEX_LIMITS_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace tide::format {

// The largest index frame (compressed, as stored in the blob) a reader fetches. Bounds the buffer a
// label or annotation can make tide allocate before anything is verified.
inline constexpr uint64_t kMaxIndexFrameSize = uint64_t{256} << 20;

// InvalidArgument naming `what` (e.g. "gzip side index sha256:...") unless 1 <= size <=
// kMaxIndexFrameSize: every place a label, annotation or descriptor sizes an index frame checks it
// here, before the size sizes a buffer.
absl::Status CheckIndexFrameSize(std::string_view what, uint64_t size);

// The largest chunk (uncompressed zstd frame) a writer makes and a reader accepts: bounds the buffer one
// chunk of an untrusted index can make a reader allocate.
inline constexpr uint32_t kMaxChunkSize = 64u << 20;

// Per-layer memory an index may take while it is loaded (decompressed bytes, the parsed protobuf and
// the in-memory table). A few hundred bytes an entry: the default admits layers of ~2M files.
inline constexpr uint64_t kDefaultMaxIndexMemory = uint64_t{512} << 20;

struct IndexLimits {
  uint64_t max_memory = kDefaultMaxIndexMemory;
};

// Peak bytes that loading the protobuf-encoded index `pb_bytes` would take, counted from its wire
// format without parsing it: each packed element, string and entry at its in-memory size. The count
// grows with the entry count, so an index of millions of tiny entries (an "index bomb": a few KB
// compressed) is refused before it is allocated.
absl::StatusOr<uint64_t> EstimateIndexMemory(std::string_view pb_bytes);

}  // namespace tide::format

#endif  // TIDE_FORMAT_INDEX_LIMITS_H_
