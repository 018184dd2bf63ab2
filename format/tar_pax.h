#ifndef TIDE_FORMAT_TAR_PAX_H_
#define TIDE_FORMAT_TAR_PAX_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tide::format {

// PAX extended header records ("LEN key=value\n"), in order.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParsePaxRecords(std::string_view data);
// A PAX time "SECONDS[.FRACTION]" (may be negative).
absl::Status ParsePaxTime(std::string_view text, int64_t* sec, uint32_t* nsec);
absl::StatusOr<uint64_t> ParsePaxUnsigned(std::string_view text, std::string_view key);

}  // namespace tide::format

#endif  // TIDE_FORMAT_TAR_PAX_H_
