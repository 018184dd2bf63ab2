#ifndef TIDE_CONVERTER_OPTIMIZE_COMMAND_H_
#define TIDE_CONVERTER_OPTIMIZE_COMMAND_H_

#include <CLI/CLI.hpp>

namespace tide::converter {

// `tidectl optimize [flags] SRC DST`: converts like `convert` and places each layer's startup set
// (from --profile, or recorded by running the workload in a sandbox) first, in access order.
void AddOptimizeCommand(CLI::App& app);

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_OPTIMIZE_COMMAND_H_
