#include "fetch/read_ahead_workers.h"

namespace tide::fetch {

ReadAheadWorkers::ReadAheadWorkers(int threads) {
  threads_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

ReadAheadWorkers::~ReadAheadWorkers() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

bool ReadAheadWorkers::TrySubmit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    // Each idle thread takes at most one task, so an accepted task starts without waiting.
    if (stopping_ || static_cast<size_t>(idle_) <= pending_.size()) return false;
    pending_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

bool ReadAheadWorkers::Post(std::function<void()> task, size_t max_queued) {
  return Enqueue(pending_, std::move(task), max_queued);
}

bool ReadAheadWorkers::PostLater(std::function<void()> task, size_t max_queued) {
  return Enqueue(later_, std::move(task), max_queued);
}

bool ReadAheadWorkers::Enqueue(std::deque<std::function<void()>>& queue, std::function<void()> task,
                               size_t max_queued) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue.size() >= max_queued) return false;
    queue.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void ReadAheadWorkers::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    ++idle_;
    cv_.wait(lock, [&] { return !pending_.empty() || !later_.empty() || stopping_; });
    --idle_;
    std::deque<std::function<void()>>& queue = pending_.empty() ? later_ : pending_;
    if (queue.empty()) return;  // stopping, nothing left
    std::function<void()> task = std::move(queue.front());
    queue.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // drop what the task holds (a fetcher) before waiting again
    lock.lock();
  }
}

}  // namespace tide::fetch
