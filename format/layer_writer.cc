#include "format/layer_writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <span>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "common/unique_fd.h"
#include "format/footer.h"
#include "format/frame_layout.h"
#include "format/frame_pipeline.h"
#include "format/index_builder.h"
#include "format/layer_index.h"
#include "format/startup_cuts.h"
#include "format/tar_path.h"
#include "format/tar_reader.h"

namespace tide::format {
namespace {

constexpr size_t kCopyBuffer = 1u << 20;
constexpr uint64_t kProgressEvery = 64u << 20;

uint32_t FileChunkSize(const LayerWriterOptions& options) {
  if (options.file_chunk_size == 0) return options.chunk_size;
  return std::min(options.file_chunk_size, options.chunk_size);
}

// Counts and hashes what goes to the real sink: the blob digest and the index position.
class HashingSink final : public ByteSink {
 public:
  explicit HashingSink(ByteSink& inner) : inner_(inner) {}
  absl::Status Write(std::string_view data) override {
    hash_.Update(data);
    size_ += data.size();
    return inner_.Write(data);
  }
  uint64_t size() const { return size_; }
  Sha256Bytes Finish() { return hash_.Finish(); }

 private:
  ByteSink& inner_;
  Sha256 hash_;
  uint64_t size_ = 0;
};

// A tar entry kept in the spool file while the startup set reorders entries.
struct SpooledEntry {
  TarEntry entry;  // raw_header cleared: it is in the spool
  uint64_t header_offset = 0;
  uint64_t header_size = 0;
  uint64_t padding_size = 0;
  uint64_t new_data_offset = 0;
};

struct StartupItem {
  size_t entry = 0;  // index into the spooled entries
  std::vector<StartupFile::Range> ranges;
  uint32_t rank = kUnknownStartupRank;
};

// The index's startup set: chunk ids in first-need order and, when every startup file has a rank,
// each chunk's smallest rank (else empty).
struct StartupSet {
  std::vector<uint32_t> chunks;
  std::vector<uint32_t> ranks;
  std::vector<uint64_t> read_bytes;  // per entry of `chunks`: bytes of it that startup ranges cover
};

absl::StatusOr<UniqueFd> OpenSpool(const std::string& dir_option) {
  std::string dir = dir_option;
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    dir = tmp && *tmp ? tmp : "/tmp";
  }
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return UniqueFd(fd);
  std::string templ = dir + "/tide-spool-XXXXXX";
  fd = ::mkostemp(templ.data(), O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot create a spool file in ", dir));
  ::unlink(templ.c_str());
  return UniqueFd(fd);
}

class Writer {
 public:
  Writer(ByteSink& blob, const LayerWriterOptions& options)
      : options_(options),
        sink_(blob),
        pipeline_(sink_, options.zstd_level, options.threads),
        layout_(pipeline_, options.chunk_size, FileChunkSize(options), options.small_file_threshold),
        buffer_(kCopyBuffer, '\0') {}

  absl::StatusOr<LayerWriteResult> Run(ByteSource& tar);

 private:
  absl::Status Stream(ByteSource& tar);
  absl::Status Reorder(ByteSource& tar);
  absl::Status Spool(ByteSource& tar, int fd);
  std::vector<size_t> StartupOrder();
  absl::Status EmitSpooled(int fd, SpooledEntry& s, std::span<const uint64_t> cuts);
  absl::flat_hash_map<size_t, std::vector<uint64_t>> CutsByEntry() const;
  absl::Status CopyRange(int fd, uint64_t offset, uint64_t size, bool content);
  void Progress();
  StartupSet StartupChunks() const;

  const LayerWriterOptions& options_;
  HashingSink sink_;
  FramePipeline pipeline_;
  FrameLayout layout_;
  IndexBuilder index_;
  std::string buffer_;
  uint64_t next_progress_ = kProgressEvery;

  std::vector<SpooledEntry> spooled_;
  uint64_t trailer_offset_ = 0;
  uint64_t trailer_size_ = 0;
  std::vector<StartupItem> startup_;
  uint32_t startup_end_frame_ = 0;
};

void Writer::Progress() {
  if (options_.progress && layout_.offset() >= next_progress_) {
    options_.progress(layout_.offset());
    next_progress_ = layout_.offset() + kProgressEvery;
  }
}

absl::Status Writer::Stream(ByteSource& tar) {
  TarReader reader(tar);
  TarEntry e;
  while (true) {
    TIDE_ASSIGN_OR_RETURN(bool more, reader.Next(&e));
    if (!more) break;
    TIDE_RETURN_IF_ERROR(layout_.Shared(e.raw_header));
    index_.AddEntry(e, layout_.offset());
    TIDE_RETURN_IF_ERROR(layout_.BeginFile(e.size));
    while (true) {
      TIDE_ASSIGN_OR_RETURN(size_t n, reader.ReadData(buffer_.data(), buffer_.size()));
      if (n == 0) break;
      TIDE_RETURN_IF_ERROR(layout_.Data(std::string_view(buffer_.data(), n)));
      Progress();
    }
    TIDE_RETURN_IF_ERROR(layout_.EndFile());
    TIDE_ASSIGN_OR_RETURN(std::string pad, reader.ReadPadding());
    TIDE_RETURN_IF_ERROR(layout_.Shared(pad));
  }
  while (true) {
    TIDE_ASSIGN_OR_RETURN(size_t n, reader.ReadTrailer(buffer_.data(), buffer_.size()));
    if (n == 0) break;
    TIDE_RETURN_IF_ERROR(layout_.Shared(std::string_view(buffer_.data(), n)));
  }
  return layout_.Flush();
}

absl::Status Writer::Spool(ByteSource& tar, int fd) {
  FdSink spool(fd);
  TarReader reader(tar);
  uint64_t pos = 0;
  while (true) {
    SpooledEntry s;
    TIDE_ASSIGN_OR_RETURN(bool more, reader.Next(&s.entry));
    if (!more) break;
    s.header_offset = pos;
    s.header_size = s.entry.raw_header.size();
    TIDE_RETURN_IF_ERROR(spool.Write(s.entry.raw_header));
    pos += s.header_size;
    s.entry.raw_header.clear();
    s.entry.raw_header.shrink_to_fit();
    while (true) {
      TIDE_ASSIGN_OR_RETURN(size_t n, reader.ReadData(buffer_.data(), buffer_.size()));
      if (n == 0) break;
      TIDE_RETURN_IF_ERROR(spool.Write(std::string_view(buffer_.data(), n)));
      pos += n;
    }
    TIDE_ASSIGN_OR_RETURN(std::string pad, reader.ReadPadding());
    TIDE_RETURN_IF_ERROR(spool.Write(pad));
    pos += pad.size();
    s.padding_size = pad.size();
    spooled_.push_back(std::move(s));
  }
  trailer_offset_ = pos;
  while (true) {
    TIDE_ASSIGN_OR_RETURN(size_t n, reader.ReadTrailer(buffer_.data(), buffer_.size()));
    if (n == 0) break;
    TIDE_RETURN_IF_ERROR(spool.Write(std::string_view(buffer_.data(), n)));
    pos += n;
  }
  trailer_size_ = pos - trailer_offset_;
  return absl::OkStatus();
}

// Startup files first (after the directories above them and every earlier entry with the same path,
// so extraction still ends with the same tree), then everything else in tar order.
std::vector<size_t> Writer::StartupOrder() {
  absl::flat_hash_map<std::string, std::vector<size_t>> by_path;
  for (size_t i = 0; i < spooled_.size(); ++i) by_path[spooled_[i].entry.path].push_back(i);
  std::vector<bool> placed(spooled_.size(), false);
  std::vector<size_t> order;
  auto place_path = [&](const std::string& path) {
    auto it = by_path.find(path);
    if (it == by_path.end()) return;
    for (size_t i : it->second) {
      if (!placed[i]) {
        placed[i] = true;
        order.push_back(i);
      }
    }
  };
  for (const StartupFile& file : options_.startup) {
    auto path = NormalizeTarPath(file.path);
    if (!path.ok() || path->empty()) continue;
    auto it = by_path.find(*path);
    // Hardlinks stand for their target, whose entry holds the content.
    for (int hops = 0; it != by_path.end() && hops < 64; ++hops) {
      const TarEntry& e = spooled_[it->second.back()].entry;
      if (e.type != EntryType::kHardlink) break;
      it = by_path.find(e.link_target);
    }
    if (it == by_path.end()) continue;
    size_t winner = it->second.back();
    if (spooled_[winner].entry.type != EntryType::kRegular) continue;
    const std::string& target = spooled_[winner].entry.path;
    for (size_t slash = target.find('/'); slash != std::string::npos; slash = target.find('/', slash + 1)) {
      place_path(target.substr(0, slash));
    }
    place_path(target);
    startup_.push_back({winner, file.ranges, file.rank});
  }
  for (size_t i = 0; i < spooled_.size(); ++i) {
    if (!placed[i]) order.push_back(i);
  }
  return order;
}

absl::Status Writer::CopyRange(int fd, uint64_t offset, uint64_t size, bool content) {
  FdRangeReader spool(fd);
  std::string chunk;
  while (size > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(size, kCopyBuffer));
    TIDE_RETURN_IF_ERROR(spool.ReadAt(offset, n, &chunk));
    TIDE_RETURN_IF_ERROR(content ? layout_.Data(chunk) : layout_.Shared(chunk));
    offset += n;
    size -= n;
    Progress();
  }
  return absl::OkStatus();
}

absl::Status Writer::EmitSpooled(int fd, SpooledEntry& s, std::span<const uint64_t> cuts) {
  TIDE_RETURN_IF_ERROR(CopyRange(fd, s.header_offset, s.header_size, false));
  s.new_data_offset = layout_.offset();
  index_.AddEntry(s.entry, s.new_data_offset);
  TIDE_RETURN_IF_ERROR(layout_.BeginFile(s.entry.size, cuts));
  TIDE_RETURN_IF_ERROR(CopyRange(fd, s.header_offset + s.header_size, s.entry.size, true));
  TIDE_RETURN_IF_ERROR(layout_.EndFile());
  return CopyRange(fd, s.header_offset + s.header_size + s.entry.size, s.padding_size, false);
}

// Frame cuts of the startup files read in part: all of a file's ranges, from every startup item that
// names it (a hardlink and its target are one entry).
absl::flat_hash_map<size_t, std::vector<uint64_t>> Writer::CutsByEntry() const {
  absl::flat_hash_map<size_t, std::vector<StartupFile::Range>> ranges;
  absl::flat_hash_map<size_t, bool> whole;
  for (const StartupItem& item : startup_) {
    if (item.ranges.empty()) whole[item.entry] = true;
    auto& r = ranges[item.entry];
    r.insert(r.end(), item.ranges.begin(), item.ranges.end());
  }
  absl::flat_hash_map<size_t, std::vector<uint64_t>> cuts;
  for (const auto& [entry, r] : ranges) {
    if (!whole.contains(entry)) cuts[entry] = StartupCuts(r, spooled_[entry].entry.size);
  }
  return cuts;
}

absl::Status Writer::Reorder(ByteSource& tar) {
  TIDE_ASSIGN_OR_RETURN(UniqueFd fd, OpenSpool(options_.spool_dir));
  TIDE_RETURN_IF_ERROR(Spool(tar, fd.get()));
  std::vector<size_t> order = StartupOrder();
  // The startup region ends after the last entry holding a startup file.
  std::vector<size_t> position(order.size());
  for (size_t i = 0; i < order.size(); ++i) position[order[i]] = i;
  size_t startup_entries = 0;
  for (const StartupItem& item : startup_)
    startup_entries = std::max(startup_entries, position[item.entry] + 1);
  const absl::flat_hash_map<size_t, std::vector<uint64_t>> cuts = CutsByEntry();
  for (size_t i = 0; i < order.size(); ++i) {
    auto cut = cuts.find(order[i]);
    TIDE_RETURN_IF_ERROR(EmitSpooled(fd.get(), spooled_[order[i]],
                                     cut == cuts.end() ? std::span<const uint64_t>() : cut->second));
    if (i + 1 == startup_entries) {
      TIDE_RETURN_IF_ERROR(layout_.Flush());
      startup_end_frame_ = layout_.frame_count();
    }
  }
  TIDE_RETURN_IF_ERROR(CopyRange(fd.get(), trailer_offset_, trailer_size_, false));
  return layout_.Flush();
}

StartupSet Writer::StartupChunks() const {
  const auto& frames = pipeline_.frames();
  std::vector<uint64_t> starts(frames.size() + 1, 0);
  for (size_t i = 0; i < frames.size(); ++i) starts[i + 1] = starts[i] + frames[i].uncompressed_size;
  // Position of each chunk in the startup set, once seen.
  std::vector<size_t> slot(frames.size(), SIZE_MAX);
  StartupSet set;
  bool ranked = true;
  uint32_t rank = kUnknownStartupRank;
  auto add_range = [&](uint64_t begin, uint64_t end) {
    if (begin >= end) return;
    size_t first =
        static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), begin) - starts.begin() - 1);
    for (size_t c = first; c < frames.size() && starts[c] < end; ++c) {
      const uint64_t covered = std::min(end, starts[c + 1]) - std::max(begin, starts[c]);
      if (slot[c] == SIZE_MAX) {
        slot[c] = set.chunks.size();
        set.chunks.push_back(static_cast<uint32_t>(c));
        set.ranks.push_back(rank);
        set.read_bytes.push_back(covered);
      } else {
        set.ranks[slot[c]] = std::min(set.ranks[slot[c]], rank);
        // Overlapping ranges of two items count twice; a chunk cannot hold more than itself.
        set.read_bytes[slot[c]] =
            std::min<uint64_t>(set.read_bytes[slot[c]] + covered, frames[c].uncompressed_size);
      }
    }
  };
  for (const StartupItem& item : startup_) {
    rank = item.rank;
    ranked = ranked && rank != kUnknownStartupRank;
    const SpooledEntry& s = spooled_[item.entry];
    uint64_t base = s.new_data_offset;
    uint64_t size = s.entry.size;
    if (item.ranges.empty()) add_range(base, base + size);
    for (const auto& r : item.ranges) {
      if (r.offset >= size) continue;
      add_range(base + r.offset, base + r.offset + std::min(r.length, size - r.offset));
    }
  }
  if (!ranked) set.ranks.clear();
  return set;
}

absl::StatusOr<LayerWriteResult> Writer::Run(ByteSource& tar) {
  if (options_.startup.empty()) {
    TIDE_RETURN_IF_ERROR(Stream(tar));
  } else {
    TIDE_RETURN_IF_ERROR(Reorder(tar));
  }
  TIDE_RETURN_IF_ERROR(pipeline_.Finish());
  const auto& frames = pipeline_.frames();
  uint64_t startup_end = 0;
  for (uint32_t i = 0; i < startup_end_frame_; ++i) startup_end += frames[i].compressed_size;
  StartupSet startup = StartupChunks();
  Sha256Bytes tar_sha = layout_.FinishTarHash();
  const size_t entry_count = index_.entry_count();
  TIDE_ASSIGN_OR_RETURN(std::string frame,
                        index_.Finish(frames, layout_.offset(), tar_sha, options_.chunk_size, startup.chunks,
                                      startup.ranks, startup_end, std::max(options_.zstd_level, 3)));
  // The layer must load in a reader; this turns e.g. a hardlink to a missing file into an error now
  // rather than at mount time.
  auto check = LayerIndex::ParseUnverified(frame);
  if (!check.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("layer cannot be indexed: ", check.status().message()));
  }
  LayerWriteResult r;
  r.index_offset = sink_.size();
  r.index_size = frame.size();
  r.index_digest = Digest::Of(frame);
  TIDE_RETURN_IF_ERROR(sink_.Write(frame));
  Footer footer{r.index_offset, r.index_size, Sha256Of(frame)};
  TIDE_RETURN_IF_ERROR(sink_.Write(EncodeFooter(footer)));
  r.blob_size = sink_.size();
  r.blob_digest = Digest::FromSha256(sink_.Finish());
  r.diff_id = Digest::FromSha256(tar_sha);
  r.tar_size = layout_.offset();
  r.entry_count = entry_count;
  r.chunk_count = frames.size();
  r.startup_chunk_count = startup.chunks.size();
  for (size_t i = 0; i < startup.chunks.size(); ++i) {
    const auto& f = frames[startup.chunks[i]];
    r.startup_bytes += f.compressed_size;
    r.startup_read_bytes += startup.read_bytes[i];
    if (f.uncompressed_size > 0)
      r.startup_read_compressed_bytes += startup.read_bytes[i] * f.compressed_size / f.uncompressed_size;
  }
  r.startup_end_offset = startup_end;
  r.annotations[std::string(kAnnotationVersion)] = std::string(kFormatVersion);
  r.annotations[std::string(kAnnotationIndexDigest)] = r.index_digest.str();
  r.annotations[std::string(kAnnotationIndexOffset)] = absl::StrCat(r.index_offset);
  r.annotations[std::string(kAnnotationIndexSize)] = absl::StrCat(r.index_size);
  r.annotations[std::string(kAnnotationStartupEnd)] = absl::StrCat(startup_end);
  if (options_.progress) options_.progress(layout_.offset());
  return r;
}

}  // namespace

absl::StatusOr<LayerWriteResult> WriteLayer(ByteSource& tar, ByteSink& blob,
                                            const LayerWriterOptions& options) {
  if (options.chunk_size < 4096 || options.chunk_size > kMaxChunkSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunk size ", options.chunk_size, " is outside [4096, ", kMaxChunkSize, "]"));
  }
  if (options.file_chunk_size != 0 && options.file_chunk_size < 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat("file chunk size ", options.file_chunk_size, " is under 4096"));
  }
  if (options.zstd_level < ZSTD_minCLevel() || options.zstd_level > ZSTD_maxCLevel()) {
    return absl::InvalidArgumentError(absl::StrCat("zstd level ", options.zstd_level, " is outside [",
                                                   ZSTD_minCLevel(), ", ", ZSTD_maxCLevel(), "]"));
  }
  Writer writer(blob, options);
  return writer.Run(tar);
}

}  // namespace tide::format
