#ifndef TIDE_LAYER_ACCESS_RECORDER_H_
#define TIDE_LAYER_ACCESS_RECORDER_H_

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "fuse/read_observer.h"

namespace tide::layer {

// One read as the filesystem saw it: which entry (by index id), which range, in arrival order.
struct AccessRecord {
  uint32_t entry_id = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
  // Process-wide arrival number of the record's first read, shared by all recorders, so that the
  // records of different layers can be merged into one access order.
  uint64_t seq = 0;
};

// Records the reads of one layer, in order, for building startup profiles. Off unless a layer asks;
// adjacent reads of the same file are coalesced so sequential reading stays one record.
class AccessRecorder : public fuse::ReadObserver {
 public:
  void OnRead(uint32_t entry_id, uint64_t offset, uint64_t length) override {
    Record(entry_id, offset, length);
  }
  void Record(uint32_t entry_id, uint64_t offset, uint64_t length);
  // Ends recording for good (a profile was taken): later reads are not kept, so a long-running
  // workload does not grow the record.
  void Stop();
  std::vector<AccessRecord> Snapshot() const;
  // Reads recorded so far, coalesced or not: it grows while a file is read sequentially.
  uint64_t reads() const;
  // Writes "path<TAB>offset<TAB>length" lines; `path_of` maps entry ids to layer paths.
  template <typename PathOf>
  absl::Status WriteTsv(const std::filesystem::path& out, PathOf path_of) const;

 private:
  mutable std::mutex mu_;
  std::vector<AccessRecord> records_;
  bool stopped_ = false;
  uint64_t reads_ = 0;
};

absl::Status WriteAccessTsv(const std::filesystem::path& out, const std::vector<std::string>& lines);

template <typename PathOf>
absl::Status AccessRecorder::WriteTsv(const std::filesystem::path& out, PathOf path_of) const {
  std::vector<std::string> lines;
  for (const AccessRecord& r : Snapshot()) {
    lines.push_back(path_of(r.entry_id) + "\t" + std::to_string(r.offset) + "\t" + std::to_string(r.length));
  }
  return WriteAccessTsv(out, lines);
}

}  // namespace tide::layer

#endif  // TIDE_LAYER_ACCESS_RECORDER_H_
