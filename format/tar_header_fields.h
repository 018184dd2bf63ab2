#ifndef TIDE_FORMAT_TAR_HEADER_FIELDS_H_
#define TIDE_FORMAT_TAR_HEADER_FIELDS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tide::format {

// The header layout a block uses, told apart by its magic as Go's archive/tar does.
enum class TarFormat { kV7, kUstar, kGnu, kStar };

// The fields of one header block as Go's archive/tar (containerd's reader) decodes them, before any
// extension header is applied. Numbers stay as wide and signed as Go keeps them; what tide accepts
// is decided later.
struct TarHeaderFields {
  char typeflag = '\0';
  TarFormat format = TarFormat::kV7;
  std::string name;  // with the ustar or star prefix joined in
  std::string linkname;
  int64_t mode = 0;
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t size = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;  // only PAX records set sub-second times
  std::string uname;        // V7 headers have none
  std::string gname;
  int64_t dev_major = 0;
  int64_t dev_minor = 0;
  // SCHILY.xattr.* records of the entry's PAX header: name without the prefix, and value.
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// Decodes a header block whose checksum was verified. Any numeric field that does not parse fails
// the block, as in Go: also the device numbers of non-device entries and the star time fields.
absl::StatusOr<TarHeaderFields> ParseHeaderFields(const char* block);

// Whether a typeflag has no content whatever its size field says (links, devices, fifos,
// directories).
bool IsHeaderOnlyTypeflag(char typeflag);

}  // namespace tide::format

#endif  // TIDE_FORMAT_TAR_HEADER_FIELDS_H_
