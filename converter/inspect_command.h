#ifndef TIDE_CONVERTER_INSPECT_COMMAND_H_
#define TIDE_CONVERTER_INSPECT_COMMAND_H_

#include <CLI/CLI.hpp>

namespace tide::converter {

// `tidectl inspect [--entries] (SRC | --blob FILE)`: prints tide layer index summaries.
void AddInspectCommand(CLI::App& app);

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_INSPECT_COMMAND_H_
