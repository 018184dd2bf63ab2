#ifndef TIDE_FORMAT_TAR_PAX_H_
#define TIDE_FORMAT_TAR_PAX_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tide::format {

// PAX extended header records ("LEN key=value\n"), in order, accepted exactly as Go's archive/tar
// accepts them: the data holds nothing but records (no NUL padding), keys are non-empty, and NUL
// bytes appear neither in keys nor in the values of path, linkpath, uname and gname.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParsePaxRecords(std::string_view data);
// A decimal PAX number as Go's strconv.ParseInt reads it: an optional sign, then digits, in int64.
absl::StatusOr<int64_t> ParsePaxInteger(std::string_view text, std::string_view key);
// A PAX time "[-]SECONDS[.FRACTION]"; the fraction is cut to nanoseconds and, for negative times,
// counts away from zero ("-1.5" is 1.5 s before the epoch: sec -2, nsec 500000000).
absl::Status ParsePaxTime(std::string_view text, std::string_view key, int64_t* sec, uint32_t* nsec);

}  // namespace tide::format

#endif  // TIDE_FORMAT_TAR_PAX_H_
