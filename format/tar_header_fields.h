#ifndef TIDE_FORMAT_TAR_HEADER_FIELDS_H_
#define TIDE_FORMAT_TAR_HEADER_FIELDS_H_

#include "absl/status/status.h"
#include "format/tar_entry.h"
#include "format/tar_extensions.h"

namespace tide::format {

// Fills an entry from a main (non-extension) header block: names (ustar prefix and GNU long names
// applied), owner, mode, size, mtime, type and device numbers. PAX records are applied separately.
// On error, e->raw_name is already set so the caller can name the entry.
absl::Status DecodeHeaderFields(const char* block, const TarExtensions& ext, TarEntry* e);

}  // namespace tide::format

#endif  // TIDE_FORMAT_TAR_HEADER_FIELDS_H_
