#ifndef TIDE_FORMAT_TAR_ENTRY_FROM_HEADER_H_
#define TIDE_FORMAT_TAR_ENTRY_FROM_HEADER_H_

#include "absl/status/status.h"
#include "format/tar_entry.h"
#include "format/tar_header_fields.h"

namespace tide::format {

// Fills an entry's names, type, owner, mode, size, mtime, device numbers and xattrs from a main
// header with its extension headers applied. Rejects what containerd would not extract the same way:
// types it does not handle (GNU sparse 'S', contiguous '7', volume labels, ...), a negative size on
// a regular file, and owner ids or device numbers outside 32 bits. Paths are not checked here.
absl::Status EntryFromHeader(const TarHeaderFields& h, TarEntry* e);

}  // namespace tide::format

#endif  // TIDE_FORMAT_TAR_ENTRY_FROM_HEADER_H_
