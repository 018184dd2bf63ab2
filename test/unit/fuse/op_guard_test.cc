// An exception that reaches libfuse's C loop terminates the daemon and every mount on the node; the
// guard answers the request EIO instead.

#include "fuse/op_guard.h"

#include <catch2/catch.hpp>
#include <new>
#include <stdexcept>

namespace tide::fuse {
namespace {

int replied_errno = -1;
int calls = 0;

int RecordReply(fuse_req_t, int err) {
  replied_errno = err;
  return 0;
}

void ThrowsBadAlloc(fuse_req_t, fuse_ino_t, size_t) { throw std::bad_alloc(); }
void ThrowsOther(fuse_req_t, fuse_ino_t, size_t) { throw 42; }
void Works(fuse_req_t, fuse_ino_t ino, size_t size) { calls += static_cast<int>(ino + size); }

TEST_CASE("an exception in a FUSE op becomes EIO") {
  replied_errno = -1;
  OpGuard<ThrowsBadAlloc, RecordReply>::Call(nullptr, 1, 2);
  CHECK(replied_errno == EIO);
  replied_errno = -1;
  OpGuard<ThrowsOther, RecordReply>::Call(nullptr, 1, 2);
  CHECK(replied_errno == EIO);
}

TEST_CASE("a guarded op that does not throw runs unchanged and is not answered by the guard") {
  replied_errno = -1;
  calls = 0;
  OpGuard<Works, RecordReply>::Call(nullptr, 3, 4);
  CHECK(calls == 7);
  CHECK(replied_errno == -1);
}

}  // namespace
}  // namespace tide::fuse
