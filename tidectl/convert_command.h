#ifndef TIDE_TIDECTL_CONVERT_COMMAND_H_
#define TIDE_TIDECTL_CONVERT_COMMAND_H_

#include <CLI/CLI.hpp>

namespace tide::tidectl {

// `tidectl convert [flags] SRC DST`: rewrites an image's layers as tide layers.
void AddConvertCommand(CLI::App& app);

}  // namespace tide::tidectl

#endif  // TIDE_TIDECTL_CONVERT_COMMAND_H_
