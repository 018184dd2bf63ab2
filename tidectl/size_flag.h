#ifndef TIDE_TIDECTL_SIZE_FLAG_H_
#define TIDE_TIDECTL_SIZE_FLAG_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace tide::tidectl {

// Parses a byte size for command-line flags: "1048576", "512K", "4M", "1MiB", "2g" (binary units).
absl::StatusOr<uint64_t> ParseSize(std::string_view text);

}  // namespace tide::tidectl

#endif  // TIDE_TIDECTL_SIZE_FLAG_H_
