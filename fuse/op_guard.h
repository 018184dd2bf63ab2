#ifndef TIDE_FUSE_OP_GUARD_H_
#define TIDE_FUSE_OP_GUARD_H_

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <cerrno>
#include <exception>

namespace tide::fuse {

// Logs an exception that reached a FUSE op. Never throws.
void LogEscapedException(const char* what) noexcept;

// Wraps a low-level op so that no exception reaches libfuse's C loop (which would terminate the
// daemon and with it every mount on the node): the request is answered EIO instead. The ops reply
// as their last step, so an exception always comes before the reply. Not for forget ops, which
// must never be answered with an error; they do nothing that can throw.
template <auto Op, auto ReplyErr = &fuse_reply_err>
struct OpGuard;

template <typename... Args, void (*Op)(fuse_req_t, Args...), auto ReplyErr>
struct OpGuard<Op, ReplyErr> {
  static void Call(fuse_req_t req, Args... args) noexcept {
    try {
      Op(req, args...);
    } catch (const std::exception& e) {
      LogEscapedException(e.what());
      ReplyErr(req, EIO);
    } catch (...) {
      LogEscapedException("unknown exception");
      ReplyErr(req, EIO);
    }
  }
};

}  // namespace tide::fuse

#endif  // TIDE_FUSE_OP_GUARD_H_
