#include "converter/progress.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tide::converter {

namespace {

std::string Mb(uint64_t bytes) { return absl::StrFormat("%.1f MB", static_cast<double>(bytes) / 1e6); }

}  // namespace

Progress::Progress(Options options) : options_(options) {
  if (!options_.quiet) thread_ = std::thread([this] { Loop(); });
}

Progress::~Progress() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int Progress::AddTask(std::string name, uint64_t total, std::function<uint64_t()> done) {
  std::lock_guard lock(mu_);
  tasks_.push_back(Task{std::move(name), total, std::move(done), false, ""});
  return static_cast<int>(tasks_.size() - 1);
}

void Progress::Finish(int task, std::string summary) {
  std::lock_guard lock(mu_);
  Task& t = tasks_[static_cast<size_t>(task)];
  t.finished = true;
  t.summary = std::move(summary);
  if (!options_.quiet && !options_.terminal) absl::FPrintF(options_.out, "%s: %s\n", t.name, t.summary);
}

void Progress::Note(const std::string& line) {
  std::lock_guard lock(mu_);
  if (options_.quiet) return;
  if (options_.terminal && drawn_lines_ > 0) {
    absl::FPrintF(options_.out, "\x1b[%dA\x1b[J", static_cast<int>(drawn_lines_));
    drawn_lines_ = 0;
  }
  absl::FPrintF(options_.out, "%s\n", line);
  if (options_.terminal) DrawLocked(false);
}

std::string Progress::Line(const Task& t) const {
  if (t.finished) return absl::StrCat(t.name, ": ", t.summary);
  uint64_t done = t.done ? t.done() : 0;
  double frac = t.total > 0 ? std::min(1.0, static_cast<double>(done) / static_cast<double>(t.total)) : 0.0;
  if (!options_.terminal) {
    return absl::StrFormat("%s: %s / %s (%.0f%%)", t.name, Mb(done), Mb(t.total), frac * 100);
  }
  constexpr int kWidth = 30;
  int filled = static_cast<int>(frac * kWidth);
  return absl::StrFormat("%s [%s%s] %3.0f%% %s / %s", t.name, std::string(static_cast<size_t>(filled), '='),
                         std::string(static_cast<size_t>(kWidth - filled), ' '), frac * 100, Mb(done),
                         Mb(t.total));
}

void Progress::DrawLocked(bool final_draw) {
  if (options_.terminal) {
    if (drawn_lines_ > 0) absl::FPrintF(options_.out, "\x1b[%dA", static_cast<int>(drawn_lines_));
    for (const Task& t : tasks_) absl::FPrintF(options_.out, "\x1b[2K%s\n", Line(t));
    drawn_lines_ = tasks_.size();
  } else if (!final_draw) {
    for (const Task& t : tasks_) {
      if (!t.finished) absl::FPrintF(options_.out, "%s\n", Line(t));
    }
  }
  std::fflush(options_.out);
}

void Progress::Loop() {
  auto interval = options_.terminal ? std::chrono::milliseconds(200) : options_.interval;
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, interval, [this] { return stop_; });
    DrawLocked(stop_);
  }
}

}  // namespace tide::converter
