#ifndef TIDE_FORMAT_STREAM_DECODER_H_
#define TIDE_FORMAT_STREAM_DECODER_H_

#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "format/layer_index.h"

namespace tide::format {

// Decompresses a whole layer blob fed in pieces of any size, for the check of the layer tar against
// its diff_id.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // Decompresses `in`, handing each piece of output to `out`. DataLoss on corrupt data.
  virtual absl::Status Feed(std::string_view in, const std::function<void(std::string_view)>& out) = 0;
  // DataLoss when the stream ends inside a gzip member or zstd frame.
  virtual absl::Status Finish() const = 0;
};

// Concatenated gzip members (an eStargz blob).
std::unique_ptr<StreamDecoder> NewGzipStreamDecoder();
// Concatenated zstd frames, skippable ones passed over (a zstd:chunked blob).
std::unique_ptr<StreamDecoder> NewZstdStreamDecoder();
// The decoder for a blob of `format` whose chunks do not tile its tar; null for tide layers.
std::unique_ptr<StreamDecoder> NewBlobStreamDecoder(LayerFormat format);

}  // namespace tide::format

#endif  // TIDE_FORMAT_STREAM_DECODER_H_
