#ifndef TIDE_FETCH_STORE_PIPELINE_H_
#define TIDE_FETCH_STORE_PIPELINE_H_

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>

namespace tide::fetch {

// Stores the chunks of one large range request on a second thread while the first keeps receiving:
// decompressing, hashing and writing a chunk then no longer stalls the transfer (the startup set
// arrives at link speed instead of at link speed minus store time).
class StorePipeline {
 public:
  // `store(k)` stores the request's k-th chunk; it is called once per k, in order, on the pipeline's
  // thread.
  explicit StorePipeline(std::function<void(size_t)> store);
  ~StorePipeline();  // Close()
  StorePipeline(const StorePipeline&) = delete;
  StorePipeline& operator=(const StorePipeline&) = delete;

  // The bytes of the first `count` chunks are in.
  void Arrived(size_t count);
  // No more chunks will arrive: returns once every arrived chunk is stored.
  void Close();

 private:
  void Run();

  const std::function<void(size_t)> store_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t arrived_ = 0;
  bool closed_ = false;
  std::thread thread_;
};

}  // namespace tide::fetch

#endif  // TIDE_FETCH_STORE_PIPELINE_H_
