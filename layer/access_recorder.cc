#include "layer/access_recorder.h"

#include <atomic>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace tide::layer {

namespace {
// Shared by every recorder: one counter orders reads across layers. Taken under the recorder's lock,
// so each recorder's records are also in seq order.
std::atomic<uint64_t> g_next_seq{0};
}  // namespace

void AccessRecorder::Record(uint32_t entry_id, uint64_t offset, uint64_t length) {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  ++reads_;
  if (!records_.empty()) {
    AccessRecord& last = records_.back();
    if (last.entry_id == entry_id && last.offset + last.length == offset) {
      last.length += length;
      return;
    }
  }
  records_.push_back({entry_id, offset, length, g_next_seq.fetch_add(1, std::memory_order_relaxed)});
}

void AccessRecorder::Stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  records_.clear();
  records_.shrink_to_fit();
}

std::vector<AccessRecord> AccessRecorder::Snapshot() const {
  std::lock_guard lock(mu_);
  return records_;
}

absl::Status WriteAccessTsv(const std::filesystem::path& out, const std::vector<std::string>& lines) {
  std::ofstream f(out, std::ios::trunc);
  for (const auto& line : lines) f << line << '\n';
  f.close();
  if (!f) return absl::InternalError(absl::StrCat("write access record ", out.string()));
  return absl::OkStatus();
}

uint64_t AccessRecorder::reads() const {
  std::lock_guard lock(mu_);
  return reads_;
}

}  // namespace tide::layer
