#ifndef TIDE_FUSE_REQUEST_LIMITS_H_
#define TIDE_FUSE_REQUEST_LIMITS_H_

namespace tide::fuse {

// Read-ahead requests the kernel lets a FUSE connection have outstanding before it queues more
// (its default is 12). A read-ahead request waiting on a failing registry holds its slot for up to
// read_timeout, so with the default, a crowd of readers made every later reader's read-ahead wait
// behind theirs, one round of read_timeout per 12 requests: 40 readers of a down registry waited up
// to 4× read_timeout for their EIO. Waiting requests cost tide a blocked thread each, no more.
inline constexpr unsigned kMaxBackgroundRequests = 64;
// From this many outstanding, the kernel skips the optional (asynchronous) part of read-ahead.
inline constexpr unsigned kCongestionThreshold = kMaxBackgroundRequests * 3 / 4;
// A worker thread for every background request, and more for the synchronous ones (lookups, the
// reader's own retry of a failed read-ahead page) so they never queue behind read-ahead.
inline constexpr int kMaxWorkerThreads = static_cast<int>(kMaxBackgroundRequests) + 16;

}  // namespace tide::fuse

#endif  // TIDE_FUSE_REQUEST_LIMITS_H_
