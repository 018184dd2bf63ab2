#ifndef TIDE_TIDECTL_INSPECT_COMMAND_H_
#define TIDE_TIDECTL_INSPECT_COMMAND_H_

#include <CLI/CLI.hpp>

namespace tide::tidectl {

// `tidectl inspect [--entries] (SRC | --blob FILE)`: prints tide layer index summaries.
void AddInspectCommand(CLI::App& app);

}  // namespace tide::tidectl

#endif  // TIDE_TIDECTL_INSPECT_COMMAND_H_
