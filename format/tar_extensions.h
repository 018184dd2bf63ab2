#ifndef TIDE_FORMAT_TAR_EXTENSIONS_H_
#define TIDE_FORMAT_TAR_EXTENSIONS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "format/tar_header_fields.h"

namespace tide::format {

// The extension headers read since the last entry (PAX 'x' and 'g', GNU 'L' and 'K') and how they
// override the next main header, following Go's archive/tar, which containerd unpacks layers with:
//  - a later 'x' replaces the records of an earlier one; within one, the last record of a key wins;
//  - a 'g' is an entry of its own that containerd ignores: its records apply to nothing, and it
//    drops the 'x', 'L' and 'K' headers before it;
//  - a PAX record with an empty value leaves the header's field as it is (xattrs excepted: an
//    empty SCHILY.xattr value is an empty attribute);
//  - a GNU long name or link overrides PAX path/linkpath; an empty one is ignored.
// Their number and total size are bounded, so a run of them cannot grow the entry's raw header
// without limit.
class TarExtensions {
 public:
  static bool IsExtensionTypeflag(char flag);

  // Accounts for an extension header whose data of `size` bytes is about to be read; fails if the
  // size is negative or too large for its type, or the run of extension headers before one entry
  // grows beyond its bounds.
  absl::Status Reserve(char flag, int64_t size);
  // Records an extension header's data (its `size` bytes, without padding).
  absl::Status Add(char flag, std::string data);
  // Whether an 'x', 'L' or 'K' header waits for its entry.
  bool pending() const { return pending_; }
  // Applies the pending records and names to a main header.
  absl::Status ApplyTo(TarHeaderFields* h) const;

 private:
  std::vector<std::pair<std::string, std::string>> pax_;
  std::string gnu_long_name_;
  std::string gnu_long_link_;
  bool pending_ = false;
  int headers_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace tide::format

#endif  // TIDE_FORMAT_TAR_EXTENSIONS_H_
