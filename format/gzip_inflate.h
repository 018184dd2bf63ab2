#ifndef TIDE_FORMAT_GZIP_INFLATE_H_
#define TIDE_FORMAT_GZIP_INFLATE_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tide::format {

// Inflates the gzip member at the start of `in` into `out` and stops when `out` is full or the member
// ends, whichever comes first; bytes after that are not looked at (an eStargz chunk's member may go
// on with tar padding and the next headers). Returns the bytes written. Never writes past `out`.
absl::StatusOr<size_t> InflateGzipPrefix(std::string_view in, std::span<char> out);

// Inflates one whole gzip member, refusing (ResourceExhausted) one that inflates to more than
// `max_size` bytes, and a member that is cut short (DataLoss).
absl::StatusOr<std::string> InflateGzipMember(std::string_view in, size_t max_size);

}  // namespace tide::format

#endif  // TIDE_FORMAT_GZIP_INFLATE_H_
