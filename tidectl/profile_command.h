#ifndef TIDE_TIDECTL_PROFILE_COMMAND_H_
#define TIDE_TIDECTL_PROFILE_COMMAND_H_

#include <CLI/CLI.hpp>

namespace tide::tidectl {

// `tidectl profile export IMAGE --root DIR`: writes the startup profile tide-snapshotter learned
// for an image's layers on this node (docs/profiles.md).
void AddProfileCommand(CLI::App& app);

}  // namespace tide::tidectl

#endif  // TIDE_TIDECTL_PROFILE_COMMAND_H_
