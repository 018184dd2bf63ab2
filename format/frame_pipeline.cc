#include "format/frame_pipeline.h"

#include <zstd.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tide::format {

FramePipeline::FramePipeline(ByteSink& sink, int zstd_level, int threads) : sink_(sink), level_(zstd_level) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  max_in_flight_ = static_cast<size_t>(threads) * 4;
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Worker(); });
}

FramePipeline::~FramePipeline() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void FramePipeline::Worker() {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level_);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, 1);
  std::string scratch;  // reused so the compression bound is not zero-filled for every frame
  while (true) {
    Job* job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = queue_.front();
      queue_.pop_front();
    }
    size_t bound = ZSTD_compressBound(job->input.size());
    if (scratch.size() < bound) scratch.resize(bound);
    size_t n =
        ZSTD_compress2(cctx.get(), scratch.data(), scratch.size(), job->input.data(), job->input.size());
    if (ZSTD_isError(n)) {
      job->status = absl::InternalError(absl::StrCat("zstd compression failed: ", ZSTD_getErrorName(n)));
    } else {
      job->output.assign(scratch.data(), n);
      job->sha256 = Sha256Of(job->input);
      job->input = std::string();  // free early: only its size is needed from here on
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      job->done = true;
    }
    done_cv_.notify_all();
  }
}

absl::Status FramePipeline::WriteFront(std::unique_lock<std::mutex>& lock) {
  done_cv_.wait(lock, [this] { return in_order_.front()->done; });
  std::unique_ptr<Job> job = std::move(in_order_.front());
  in_order_.pop_front();
  lock.unlock();
  absl::Status st = job->status;
  if (st.ok()) st = sink_.Write(job->output);
  if (st.ok()) {
    frames_.push_back({job->input_size, static_cast<uint32_t>(job->output.size()), job->sha256});
  }
  lock.lock();
  return st;
}

absl::StatusOr<uint32_t> FramePipeline::Submit(std::string data) {
  auto job = std::make_unique<Job>();
  job->input_size = static_cast<uint32_t>(data.size());
  job->input = std::move(data);
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(job.get());
  in_order_.push_back(std::move(job));
  work_cv_.notify_one();
  while (in_order_.size() > max_in_flight_ || (!in_order_.empty() && in_order_.front()->done)) {
    TIDE_RETURN_IF_ERROR(WriteFront(lock));
  }
  return submitted_++;
}

absl::Status FramePipeline::Finish() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!in_order_.empty()) TIDE_RETURN_IF_ERROR(WriteFront(lock));
  return absl::OkStatus();
}

}  // namespace tide::format
