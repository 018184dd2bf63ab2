#ifndef TIDE_FETCH_READ_AHEAD_WORKERS_H_
#define TIDE_FETCH_READ_AHEAD_WORKERS_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tide::fetch {

// The node's threads for range requests that outlive the read that started them. A cold read whose
// request also carries read-ahead hands the request to one of these threads and waits only for its
// own chunks: the reader is answered as soon as they are stored, while the same connection goes on
// receiving, decoding and verifying the chunks after them. Such requests are never queued
// (TrySubmit): one that finds every thread busy is not handed over, so a reader never waits behind
// read-ahead. A pool of its own can instead queue work that may wait (Post: a loader walk's steps).
class ReadAheadWorkers {
 public:
  explicit ReadAheadWorkers(int threads);
  ~ReadAheadWorkers();  // finishes running tasks, then joins
  ReadAheadWorkers(const ReadAheadWorkers&) = delete;
  ReadAheadWorkers& operator=(const ReadAheadWorkers&) = delete;

  // Runs `task` on an idle thread and returns true, or returns false at once when none is idle.
  bool TrySubmit(std::function<void()> task);
  // Queues `task` (run in order as threads free up); false when `max_queued` tasks already wait. For
  // work that must not be dropped but may wait, on a pool of its own (a loader walk's steps).
  bool Post(std::function<void()> task, size_t max_queued = 4096);
  // Like Post, but the task runs only when no Post task waits: for guesses that must not delay the
  // steps a reader is known to need next (a loader walk's sibling modules).
  bool PostLater(std::function<void()> task, size_t max_queued = 4096);

 private:
  void Run();
  bool Enqueue(std::deque<std::function<void()>>& queue, std::function<void()> task, size_t max_queued);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> pending_;
  std::deque<std::function<void()>> later_;  // PostLater: run when pending_ is empty
  int idle_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tide::fetch

#endif  // TIDE_FETCH_READ_AHEAD_WORKERS_H_
