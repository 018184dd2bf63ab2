#ifndef TIDE_FORMAT_FRAME_PIPELINE_H_
#define TIDE_FORMAT_FRAME_PIPELINE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/sha256.h"
#include "format/byte_io.h"

namespace tide::format {

// What the index needs to know about one written frame.
struct FrameRecord {
  uint32_t uncompressed_size = 0;
  uint32_t compressed_size = 0;
  Sha256Bytes sha256{};  // of the uncompressed bytes
};

// Compresses frames on a pool of threads and writes them to the sink in submission order, so
// compression uses every core while the blob layout stays deterministic.
class FramePipeline {
 public:
  FramePipeline(ByteSink& sink, int zstd_level, int threads);
  ~FramePipeline();
  FramePipeline(const FramePipeline&) = delete;
  FramePipeline& operator=(const FramePipeline&) = delete;

  // Queues one frame's uncompressed bytes; returns its frame id. Blocks while too many frames are in
  // flight, writing finished ones meanwhile.
  absl::StatusOr<uint32_t> Submit(std::string data);
  // Writes everything still in flight.
  absl::Status Finish();
  const std::vector<FrameRecord>& frames() const { return frames_; }
  uint32_t submitted() const { return submitted_; }

 private:
  struct Job {
    std::string input;
    uint32_t input_size = 0;
    std::string output;
    Sha256Bytes sha256{};
    absl::Status status;
    bool done = false;
  };
  void Worker();
  absl::Status WriteFront(std::unique_lock<std::mutex>& lock);

  ByteSink& sink_;
  const int level_;
  size_t max_in_flight_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<std::unique_ptr<Job>> in_order_;  // every unwritten job, in submission order
  std::deque<Job*> queue_;                     // jobs no worker has taken yet
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::vector<FrameRecord> frames_;
  uint32_t submitted_ = 0;
};

}  // namespace tide::format

#endif  // TIDE_FORMAT_FRAME_PIPELINE_H_
