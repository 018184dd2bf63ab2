#ifndef TIDE_FORMAT_INDEX_BUILDER_H_
#define TIDE_FORMAT_INDEX_BUILDER_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/sha256.h"
#include "format/frame_pipeline.h"
#include "format/tar_entry.h"
#include "tide/format/v1/layer_index.pb.h"

namespace tide::format {

// Accumulates entries and chunks into the columnar LayerIndex proto and encodes the index frame.
class IndexBuilder {
 public:
  // `data_offset` is where the entry's content starts in the tar stream the blob decompresses to.
  void AddEntry(const TarEntry& entry, uint64_t data_offset);
  size_t entry_count() const { return static_cast<size_t>(pb_.path_lengths_size()); }

  // Completes the columns and hands over the proto: for readers of other formats, which build an
  // index in memory from their own table of contents. An empty `tar_sha256` leaves the diff_id unset.
  tide::format::v1::LayerIndex TakeProto(const std::vector<FrameRecord>& frames, uint64_t tar_size,
                                         std::span<const uint8_t> tar_sha256, uint64_t chunk_size,
                                         const std::vector<uint32_t>& startup_chunks,
                                         const std::vector<uint32_t>& startup_ranks,
                                         uint64_t startup_end_offset);
  // Encodes the index frame (skippable frame holding the zstd-compressed proto).
  absl::StatusOr<std::string> Finish(const std::vector<FrameRecord>& frames, uint64_t tar_size,
                                     const Sha256Bytes& tar_sha256, uint64_t chunk_size,
                                     const std::vector<uint32_t>& startup_chunks,
                                     const std::vector<uint32_t>& startup_ranks, uint64_t startup_end_offset,
                                     int zstd_level);

 private:
  uint32_t OwnerId(const std::string& name);

  tide::format::v1::LayerIndex pb_;
  absl::flat_hash_map<std::string, uint32_t> owner_ids_;
};

// The index frame of a complete proto: an 8-byte header (magic, size) and one zstd frame.
absl::StatusOr<std::string> EncodeIndexFrame(const tide::format::v1::LayerIndex& pb, int zstd_level);

}  // namespace tide::format

#endif  // TIDE_FORMAT_INDEX_BUILDER_H_
