#include "fetch/store_pipeline.h"

namespace tide::fetch {

StorePipeline::StorePipeline(std::function<void(size_t)> store) : store_(std::move(store)) {
  thread_ = std::thread([this] { Run(); });
}

StorePipeline::~StorePipeline() { Close(); }

void StorePipeline::Arrived(size_t count) {
  {
    std::lock_guard lock(mu_);
    if (count <= arrived_) return;
    arrived_ = count;
  }
  cv_.notify_one();
}

void StorePipeline::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void StorePipeline::Run() {
  size_t next = 0;
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return next < arrived_ || closed_; });
    if (next >= arrived_) return;  // closed and drained
    const size_t k = next++;
    lock.unlock();
    store_(k);
    lock.lock();
  }
}

}  // namespace tide::fetch
