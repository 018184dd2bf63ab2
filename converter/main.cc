// tidectl: the command-line tool users and CI pipelines run. Each subcommand lives in its own
// <name>_command.{h,cc} and registers itself here.
#include <CLI/CLI.hpp>

#include "converter/convert_command.h"
#include "converter/inspect_command.h"
#include "converter/mount_command.h"
#include "converter/optimize_command.h"
#include "converter/profile_command.h"
#include "converter/pull_command.h"

int main(int argc, char** argv) {
  CLI::App app{"tidectl: convert, inspect, lazily pull and mount tide images"};
  app.require_subcommand(1);
  tide::converter::AddConvertCommand(app);
  tide::converter::AddInspectCommand(app);
  tide::converter::AddOptimizeCommand(app);
  tide::converter::AddProfileCommand(app);
  tide::converter::AddPullCommand(app);
  tide::converter::AddMountCommand(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
