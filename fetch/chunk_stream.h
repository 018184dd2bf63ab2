#ifndef TIDE_FETCH_CHUNK_STREAM_H_
#define TIDE_FETCH_CHUNK_STREAM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tide::fetch {

// Decodes and verifies chunks one at a time from their blob bytes as they arrive, for layer formats
// whose chunks are whole compressed frames. An on-demand fetch feeds it from the receive callback,
// so the reader's chunk is ready just after its last byte instead of a whole-chunk decode later.
class ChunkStream {
 public:
  virtual ~ChunkStream() = default;
  // Begins chunk `index`, dropping whatever was fed before.
  virtual void Start(uint32_t index) = 0;
  // The chunk's next blob bytes. DataLoss: they cannot be the chunk; feed nothing more of it.
  virtual absl::Status Feed(std::string_view blob_bytes) = 0;
  // All of the chunk's blob bytes were fed: its verified bytes, valid until the next Start.
  virtual absl::StatusOr<std::string_view> Finish() = 0;
};

// Makes a stream for one range request; an empty function when the layer's chunks decode only whole
// (an eStargz chunk is the head of a gzip member, a gzip side index's span needs its checkpoint).
using ChunkStreamFactory = std::function<std::unique_ptr<ChunkStream>()>;

}  // namespace tide::fetch

#endif  // TIDE_FETCH_CHUNK_STREAM_H_
