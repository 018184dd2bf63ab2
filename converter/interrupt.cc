#include "converter/interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace tide::converter {

namespace {

std::atomic<bool> g_interrupted{false};

}  // namespace

void InstallInterruptHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set] {
      for (int count = 0;; ++count) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (count > 0) _exit(128 + sig);
        g_interrupted.store(true);
        constexpr char kMsg[] = "tidectl: interrupted, cleaning up (again to quit at once)\n";
        [[maybe_unused]] ssize_t n = write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
      }
    }).detach();
  });
}

bool InterruptRequested() { return g_interrupted.load(std::memory_order_relaxed); }

}  // namespace tide::converter
