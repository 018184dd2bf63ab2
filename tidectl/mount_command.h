#ifndef TIDE_TIDECTL_MOUNT_COMMAND_H_
#define TIDE_TIDECTL_MOUNT_COMMAND_H_

#include <CLI/CLI.hpp>

namespace tide::tidectl {

// `tidectl mount [--plain-http] [--hosts-dir DIR] [--prefetch none|startup|all] [--cache DIR]
//  REF LAYER_DIGEST MOUNTPOINT`: serves one layer of an image through FUSE in the foreground until
// it is unmounted or gets SIGINT/SIGTERM. Failures are reported as CLI::RuntimeError carrying the
// exit code (handled by app.exit()).
void AddMountCommand(CLI::App& app);

}  // namespace tide::tidectl

#endif  // TIDE_TIDECTL_MOUNT_COMMAND_H_
