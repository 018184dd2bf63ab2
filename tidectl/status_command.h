#ifndef TIDE_TIDECTL_STATUS_COMMAND_H_
#define TIDE_TIDECTL_STATUS_COMMAND_H_

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace tide::tidectl {

// `tidectl status [--address HOST:PORT] [--json]`: the layers tide-snapshotter serves lazily, per
// image: bytes cached out of the total, prefetch state, time since mount, read errors. Asks the
// daemon's metrics endpoint (metrics_address) for /status.
void AddStatusCommand(CLI::App& app);

// The table `tidectl status` prints for a /status document; malformed fields print as blanks.
std::string FormatStatus(const nlohmann::json& status);

}  // namespace tide::tidectl

#endif  // TIDE_TIDECTL_STATUS_COMMAND_H_
