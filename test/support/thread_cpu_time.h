#ifndef TIDE_TEST_SUPPORT_THREAD_CPU_TIME_H_
#define TIDE_TEST_SUPPORT_THREAD_CPU_TIME_H_

#include <ctime>

namespace tide::testing {

// CPU time of the calling thread, for benchmarks: on a shared, loaded machine wall time overstates
// the cost.
inline double ThreadCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace tide::testing

#endif  // TIDE_TEST_SUPPORT_THREAD_CPU_TIME_H_
