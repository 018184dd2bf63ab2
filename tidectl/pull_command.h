#ifndef TIDE_TIDECTL_PULL_COMMAND_H_
#define TIDE_TIDECTL_PULL_COMMAND_H_

#include <CLI/CLI.hpp>

namespace tide::tidectl {

// `tidectl pull [--address SOCK] [--namespace NS] [--snapshotter tide] [--platform P]
//  [--plain-http] [--hosts-dir DIR] [--user USER[:PASSWORD]] REF`: lazily pulls REF into
// containerd (see LazyPuller). Progress goes to stderr, the summary line to stdout. Failures print
// one "tidectl pull: ..." line and exit 1 (CLI::RuntimeError, handled by app.exit()).
void AddPullCommand(CLI::App& app);

}  // namespace tide::tidectl

#endif  // TIDE_TIDECTL_PULL_COMMAND_H_
