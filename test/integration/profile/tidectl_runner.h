#ifndef TIDE_TEST_INTEGRATION_PROFILE_TIDECTL_RUNNER_H_
#define TIDE_TEST_INTEGRATION_PROFILE_TIDECTL_RUNNER_H_

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "test/support/subprocess.h"

namespace tide::testing {

// A path ctest passes in the environment (TIDE_BINARY_DIR, TIDE_SOURCE_DIR).
inline std::string Env(const char* name) {
  const char* v = std::getenv(name);
  REQUIRE(v != nullptr);
  return v;
}

// Runs the tidectl of this build with `args`.
inline CommandResult Tidectl(std::vector<std::string> args) {
  args.insert(args.begin(), Env("TIDE_BINARY_DIR") + "/tidectl/tidectl");
  return RunCommand(args, std::chrono::seconds(120));
}

}  // namespace tide::testing

#endif  // TIDE_TEST_INTEGRATION_PROFILE_TIDECTL_RUNNER_H_
