#ifndef TIDE_FORMAT_TAR_EXTENSIONS_H_
#define TIDE_FORMAT_TAR_EXTENSIONS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "format/tar_entry.h"

namespace tide::format {

// The extension headers (PAX 'x' and 'g', GNU 'L' and 'K') that precede a main header, and how their
// data overrides the main header's fields.
struct TarExtensions {
  std::vector<std::pair<std::string, std::string>> pax;  // local ('x') records, in archive order
  std::optional<std::string> gnu_long_name;
  std::optional<std::string> gnu_long_link;
};

bool IsExtensionTypeflag(char flag);
// The largest data size accepted for an extension header of this type.
uint64_t MaxExtensionSize(char flag);

// Records an extension header's data (its `size` bytes, without padding): local PAX records and GNU
// names go to `ext`, global PAX records to `global` (they apply to every later entry).
absl::Status AddExtension(char flag, std::string data, TarExtensions* ext,
                          std::map<std::string, std::string>* global);

// Applies the global, then the local PAX records to an entry decoded from its main header.
absl::Status ApplyPaxRecords(const std::map<std::string, std::string>& global, const TarExtensions& ext,
                             TarEntry* e);

}  // namespace tide::format

#endif  // TIDE_FORMAT_TAR_EXTENSIONS_H_
