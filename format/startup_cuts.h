#ifndef TIDE_FORMAT_STARTUP_CUTS_H_
#define TIDE_FORMAT_STARTUP_CUTS_H_

#include <cstdint>
#include <span>
#include <vector>

#include "format/layer_writer.h"

namespace tide::format {

// Ranges of a startup file closer than this share frames with the gap between them: a frame per
// page-sized gap would cost more in requests and index entries than the gap's bytes.
inline constexpr uint64_t kStartupMinGap = 64u << 10;
// Cuts fall on page boundaries, where the kernel's reads of a file begin and end.
inline constexpr uint64_t kStartupCutAlign = 4096;

// File offsets, ascending, strictly inside (0, file_size), where the frames of a startup file end so
// that the ranges startup reads get frames of their own: the startup set then holds about the bytes
// read instead of every chunk-sized frame a read touches. Ranges are clamped to the file, widened to
// page boundaries and merged across gaps under `min_gap`. At most two cuts per merged range, so at
// most file_size / min_gap of them.
std::vector<uint64_t> StartupCuts(std::span<const StartupFile::Range> ranges, uint64_t file_size,
                                  uint64_t min_gap = kStartupMinGap);

}  // namespace tide::format

#endif  // TIDE_FORMAT_STARTUP_CUTS_H_
