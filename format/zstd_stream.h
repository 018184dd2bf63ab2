#ifndef TIDE_FORMAT_ZSTD_STREAM_H_
#define TIDE_FORMAT_ZSTD_STREAM_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tide::format {

// Decompresses the zstd frames at the start of `in` into `out` and stops when `out` is full or the
// input ends; skippable frames are passed over. Returns the bytes written. Never writes past `out`.
// (A zstd:chunked chunk's frame may go on with tar padding and the next headers.)
absl::StatusOr<size_t> DecompressZstdPrefix(std::string_view in, std::span<char> out);

// Decompresses all of `in` (one or more frames), refusing (ResourceExhausted) more than `max_size`
// bytes of output and (DataLoss) input that ends inside a frame.
absl::StatusOr<std::string> DecompressZstdBounded(std::string_view in, size_t max_size);

}  // namespace tide::format

#endif  // TIDE_FORMAT_ZSTD_STREAM_H_
