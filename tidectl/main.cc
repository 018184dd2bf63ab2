// tidectl: the command-line tool users and CI pipelines run. Each subcommand lives in its own
// <name>_command.{h,cc} and registers itself here.
#include <CLI/CLI.hpp>
#include <string>

#include "common/log.h"
#include "tidectl/cache_command.h"
#include "tidectl/convert_command.h"
#include "tidectl/index_command.h"
#include "tidectl/inspect_command.h"
#include "tidectl/mount_command.h"
#include "tidectl/optimize_command.h"
#include "tidectl/profile_command.h"
#include "tidectl/pull_command.h"
#include "tidectl/status_command.h"
#include "tidectl/warm_command.h"

int main(int argc, char** argv) {
  CLI::App app{"tidectl: convert, inspect, lazily pull and mount tide images"};
  app.require_subcommand(1);
  // Commands that mount layers (mount, optimize) log through the same logger as tide-snapshotter.
  app.add_option_function<std::string>(
         "--log-level",
         [](const std::string& name) {
           auto level = tide::log::ParseLevel(name);
           if (!level.ok()) throw CLI::ValidationError("--log-level", std::string(level.status().message()));
           tide::log::Setup(*level);
         },
         "trace, debug, info (default), warn, error or fatal")
      ->trigger_on_parse();
  tide::tidectl::AddConvertCommand(app);
  tide::tidectl::AddInspectCommand(app);
  tide::tidectl::AddOptimizeCommand(app);
  tide::tidectl::AddIndexCommand(app);
  tide::tidectl::AddProfileCommand(app);
  tide::tidectl::AddPullCommand(app);
  tide::tidectl::AddMountCommand(app);
  tide::tidectl::AddStatusCommand(app);
  tide::tidectl::AddWarmCommand(app);
  tide::tidectl::AddCacheCommand(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
