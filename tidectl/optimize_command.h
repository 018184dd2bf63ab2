#ifndef TIDE_TIDECTL_OPTIMIZE_COMMAND_H_
#define TIDE_TIDECTL_OPTIMIZE_COMMAND_H_

#include <CLI/CLI.hpp>

namespace tide::tidectl {

// `tidectl optimize [flags] SRC DST`: converts like `convert` and places each layer's startup set
// (from --profile, or recorded by running the workload in a sandbox) first, in access order.
void AddOptimizeCommand(CLI::App& app);

}  // namespace tide::tidectl

#endif  // TIDE_TIDECTL_OPTIMIZE_COMMAND_H_
