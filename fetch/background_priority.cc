#include "fetch/background_priority.h"

#include <linux/ioprio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tide::fetch {

void LowerCurrentThreadPriority() {
  const pid_t tid = static_cast<pid_t>(::syscall(SYS_gettid));
  // On Linux, PRIO_PROCESS with a thread id sets that thread's nice value only.
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 19);
  (void)::syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, tid, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 7));
}

}  // namespace tide::fetch
