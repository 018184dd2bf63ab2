#ifndef TIDE_TEST_SUPPORT_ROOT_ONLY_H_
#define TIDE_TEST_SUPPORT_ROOT_ONLY_H_

namespace tide::testing {

// The exit code ctest reads as "skipped" for tests registered with tide_catch_test(... ROOT_ONLY).
inline constexpr int kSkipExitCode = 77;

// For tests that mount FUSE and overlayfs. Without root and /dev/fuse, ends the test binary
// visibly: exit code 77, which ctest reports as skipped, or, when TIDE_ROOT_TESTS_MUST_RUN=1 (set by
// scripts/test.sh for CI), exit code 1 with the reason, so CI cannot pass by skipping.
void SkipUnlessRootWithFuse();

}  // namespace tide::testing

#endif  // TIDE_TEST_SUPPORT_ROOT_ONLY_H_
