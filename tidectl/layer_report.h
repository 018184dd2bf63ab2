#ifndef TIDE_TIDECTL_LAYER_REPORT_H_
#define TIDE_TIDECTL_LAYER_REPORT_H_

#include <cstdio>

#include "format/layer_index.h"

namespace tide::tidectl {

// Human-readable summary of a tide layer index: entries, chunks, sizes, startup set.
void PrintIndexSummary(FILE* out, const format::LayerIndex& index, uint64_t blob_size);
// One line per tar entry: type, mode, owner, size, path (and link target).
void PrintEntries(FILE* out, const format::LayerIndex& index);

}  // namespace tide::tidectl

#endif  // TIDE_TIDECTL_LAYER_REPORT_H_
