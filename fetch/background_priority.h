#ifndef TIDE_FETCH_BACKGROUND_PRIORITY_H_
#define TIDE_FETCH_BACKGROUND_PRIORITY_H_

namespace tide::fetch {

// Makes the calling thread yield CPU and disk to everything else (nice 19, lowest best-effort I/O
// priority). Background prefetch decompresses, hashes and writes hundreds of MiB; on a small node it
// must not slow the workload that is starting. Best effort: failures are ignored.
void LowerCurrentThreadPriority();

}  // namespace tide::fetch

#endif  // TIDE_FETCH_BACKGROUND_PRIORITY_H_
