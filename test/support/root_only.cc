#include "test/support/root_only.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tide::testing {

void SkipUnlessRootWithFuse() {
  if (::geteuid() == 0 && ::access("/dev/fuse", R_OK | W_OK) == 0) return;
  const char* must = std::getenv("TIDE_ROOT_TESTS_MUST_RUN");
  if (must != nullptr && std::strcmp(must, "1") == 0) {
    std::fprintf(stderr, "FAILED: this test needs root and /dev/fuse, and TIDE_ROOT_TESTS_MUST_RUN=1\n");
    std::exit(1);
  }
  std::fprintf(stderr, "SKIPPED: this test needs root and /dev/fuse\n");
  std::exit(kSkipExitCode);
}

}  // namespace tide::testing
