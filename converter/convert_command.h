#ifndef TIDE_CONVERTER_CONVERT_COMMAND_H_
#define TIDE_CONVERTER_CONVERT_COMMAND_H_

#include <CLI/CLI.hpp>

namespace tide::converter {

// `tidectl convert [flags] SRC DST`: rewrites an image's layers as tide layers.
void AddConvertCommand(CLI::App& app);

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_CONVERT_COMMAND_H_
