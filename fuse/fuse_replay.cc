#include "fuse/fuse_replay.h"

#include <linux/fuse.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tide::fuse {
namespace {

// From Linux 6.9's uapi (protocol 7.40); Debian 12's headers predate it.
constexpr int32_t kNotifyResend = 7;

// A request id the kernel never hands out (its ids count up from 0 in steps of 2), so the kernel
// matches no request to libfuse's reply and drops it (ENOENT, which libfuse ignores).
constexpr uint64_t kReplayedInitUnique = 0x7ffffffffffffff0ull;

}  // namespace

void ReplayInit(fuse_session* session) {
  struct {
    fuse_in_header header;
    fuse_init_in init;
  } request{};
  request.header.len = sizeof(request);
  request.header.opcode = FUSE_INIT;
  request.header.unique = kReplayedInitUnique;
  request.init.major = FUSE_KERNEL_VERSION;
  request.init.minor = FUSE_KERNEL_MINOR_VERSION;
  request.init.max_readahead = 128 << 10;
  // What the kernel offers a read-only filesystem like this one; libfuse derives the same session
  // settings from it as it did from the real INIT (the reply, which would tell the kernel, is dropped).
  request.init.flags = FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO |
                       FUSE_PARALLEL_DIROPS | FUSE_CACHE_SYMLINKS | FUSE_MAX_PAGES | FUSE_EXPORT_SUPPORT |
                       FUSE_AUTO_INVAL_DATA;
  fuse_buf buf{};
  buf.size = sizeof(request);
  buf.mem = &request;
  fuse_session_process_buf(session, &buf);
}

absl::Status RequestResend(int fuse_fd) {
  fuse_out_header notify{};
  notify.len = sizeof(notify);
  notify.error = kNotifyResend;
  notify.unique = 0;  // a notification, not a reply
  if (write(fuse_fd, &notify, sizeof(notify)) != static_cast<ssize_t>(sizeof(notify))) {
    return absl::UnavailableError(absl::StrCat("FUSE_NOTIFY_RESEND: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace tide::fuse
