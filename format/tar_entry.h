#ifndef TIDE_FORMAT_TAR_ENTRY_H_
#define TIDE_FORMAT_TAR_ENTRY_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "format/layer_index.h"

namespace tide::format {

// One tar entry as the tar reader decoded it, with every extension header applied.
struct TarEntry {
  std::string raw_name;     // the name as the archive spells it (after PAX/GNU long-name overrides)
  std::string path;         // normalized: no "./" prefix, no trailing "/", "" for the root
  std::string link_target;  // symlinks: raw; hardlinks: normalized path
  EntryType type = EntryType::kRegular;
  uint32_t mode = 0;  // permission bits (07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string uname;
  std::string gname;
  uint64_t size = 0;  // content bytes that follow the header (regular files only)
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;  // in archive order
  // Exact bytes of this entry's headers: any PAX ('x', 'g') and GNU ('L', 'K') extension headers
  // with their data, then the main header block.
  std::string raw_header;
  uint64_t header_offset = 0;  // of raw_header in the tar stream
  uint64_t data_offset = 0;    // of the content in the tar stream
};

}  // namespace tide::format

#endif  // TIDE_FORMAT_TAR_ENTRY_H_
