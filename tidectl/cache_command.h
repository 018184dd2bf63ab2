#ifndef TIDE_TIDECTL_CACHE_COMMAND_H_
#define TIDE_TIDECTL_CACHE_COMMAND_H_

#include <CLI/CLI.hpp>
#include <string>

#include "tide/cache/v1/cache.pb.h"

namespace tide::tidectl {

// `tidectl cache ls [--address SOCKET] [--json]`: what the node's chunk cache holds, per pinned image
// and per mounted layer, with the pins. Asks tide-snapshotter, which owns the cache.
void AddCacheCommand(CLI::App& app);

std::string FormatCacheList(const tide::cache::v1::ListResponse& list);

}  // namespace tide::tidectl

#endif  // TIDE_TIDECTL_CACHE_COMMAND_H_
