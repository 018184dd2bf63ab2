#ifndef TIDE_FORMAT_INDEX_MEMORY_COST_H_
#define TIDE_FORMAT_INDEX_MEMORY_COST_H_

#include <cstdint>
#include <string_view>

#include "format/layer_index.h"

namespace tide::format {

// In-memory bytes one loaded entry costs: its packed attributes (with the loader's reserve for
// synthesized parents), its slot in the children list, and its slot in the path map the loader builds
// (flat_hash_map: key, value and control byte, at up to half load).
inline constexpr uint64_t kIndexEntryCost =
    sizeof(EntryAttr) * 17 / 16 + sizeof(EntryId) + 2 * (sizeof(std::string_view) + sizeof(EntryId) + 1);
inline constexpr uint64_t kIndexChunkCost = sizeof(ChunkInfo);
inline constexpr uint64_t kIndexXattrCost = sizeof(Xattr);

}  // namespace tide::format

#endif  // TIDE_FORMAT_INDEX_MEMORY_COST_H_
