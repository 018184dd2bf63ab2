#include "fuse/access_recorder.h"

#include <fstream>

#include "absl/strings/str_cat.h"

namespace tide::fuse {

void AccessRecorder::Record(uint32_t entry_id, uint64_t offset, uint64_t length) {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  if (!records_.empty()) {
    AccessRecord& last = records_.back();
    if (last.entry_id == entry_id && last.offset + last.length == offset) {
      last.length += length;
      return;
    }
  }
  records_.push_back({entry_id, offset, length});
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

}  // namespace tide::fuse
