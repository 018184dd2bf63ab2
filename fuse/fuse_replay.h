#ifndef TIDE_FUSE_FUSE_REPLAY_H_
#define TIDE_FUSE_FUSE_REPLAY_H_

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include "absl/status/status.h"

namespace tide::fuse {

// For a session taking over a connection whose INIT another process answered: feeds the session
// the INIT request the kernel sent then, so libfuse leaves its "waiting for INIT" state and runs
// the filesystem's init op. The kernel never asked for this INIT, so it drops libfuse's reply.
void ReplayInit(fuse_session* session);

// Asks the kernel to queue again every request of the connection on `fuse_fd` that was read but
// never answered (the previous daemon died holding them): FUSE_NOTIFY_RESEND, Linux 6.9+.
absl::Status RequestResend(int fuse_fd);

}  // namespace tide::fuse

#endif  // TIDE_FUSE_FUSE_REPLAY_H_
