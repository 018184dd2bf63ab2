#ifndef TIDE_TIDECTL_INDEX_COMMAND_H_
#define TIDE_TIDECTL_INDEX_COMMAND_H_

#include <CLI/CLI.hpp>

namespace tide::tidectl {

// `tidectl index [flags] SRC`: builds a gzip side index for each gzip layer of a registry image and
// pushes them as one OCI artifact whose subject is the image manifest (docs/format.md §12). The
// image itself is not changed.
void AddIndexCommand(CLI::App& app);

}  // namespace tide::tidectl

#endif  // TIDE_TIDECTL_INDEX_COMMAND_H_
