#ifndef TIDE_TIDECTL_WARM_COMMAND_H_
#define TIDE_TIDECTL_WARM_COMMAND_H_

#include <CLI/CLI.hpp>
#include <string>

#include "tide/cache/v1/cache.pb.h"

namespace tide::tidectl {

// `tidectl warm [--all] [--platform P] [--address SOCKET] REF` and `tidectl warm --unpin REF`: asks
// tide-snapshotter to fill the node's chunk cache with an image's startup set (or all of it) and pin
// it there, without running it. A progress bar on a terminal, plain lines otherwise.
void AddWarmCommand(CLI::App& app);

// "layer sha256:0123456789ab  tide  12.0 MiB in 34 chunks" for each layer of a warm's plan.
std::string FormatWarmPlan(const tide::cache::v1::WarmProgress& plan);

}  // namespace tide::tidectl

#endif  // TIDE_TIDECTL_WARM_COMMAND_H_
