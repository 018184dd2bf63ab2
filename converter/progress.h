#ifndef TIDE_CONVERTER_PROGRESS_H_
#define TIDE_CONVERTER_PROGRESS_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tide::converter {

// Progress of concurrent tasks (one per layer). On a terminal it redraws one bar per task in place;
// otherwise it prints plain lines every `interval`, so CI logs stay readable.
class Progress {
 public:
  struct Options {
    FILE* out = stderr;
    bool terminal = false;  // draw bars (caller decides, usually isatty)
    std::chrono::milliseconds interval{5000};
    bool quiet = false;
  };
  explicit Progress(Options options);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `done` is polled from the display thread, so it must be cheap and thread-safe.
  int AddTask(std::string name, uint64_t total, std::function<uint64_t()> done);
  void Finish(int task, std::string summary);
  // Prints a line above the bars.
  void Note(const std::string& line);

 private:
  struct Task {
    std::string name;
    uint64_t total = 0;
    std::function<uint64_t()> done;
    bool finished = false;
    std::string summary;
  };
  void Loop();
  void DrawLocked(bool final_draw);
  std::string Line(const Task& t) const;

  Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Task> tasks_;
  size_t drawn_lines_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_PROGRESS_H_
