// Test-only stand-in for tidectl until the converter's main wires AddMountCommand in.
#include <CLI/CLI.hpp>

#include "tidectl/mount_command.h"

int main(int argc, char** argv) {
  CLI::App app{"tidectl (mount only, test driver)"};
  app.require_subcommand(1);
  tide::tidectl::AddMountCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
