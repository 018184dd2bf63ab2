#ifndef TIDE_TEST_FUZZ_FUZZ_CHECK_H_
#define TIDE_TEST_FUZZ_FUZZ_CHECK_H_

#include <cstddef>
#include <cstdint>

// A property every accepted input must have; libFuzzer reports a violation as a crash.
#define FUZZ_CHECK(cond) \
  if (!(cond)) __builtin_trap()

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#endif  // TIDE_TEST_FUZZ_FUZZ_CHECK_H_
