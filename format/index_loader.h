#ifndef TIDE_FORMAT_INDEX_LOADER_H_
#define TIDE_FORMAT_INDEX_LOADER_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "format/layer_index.h"
#include "tide/format/v1/layer_index.pb.h"

namespace tide::format {

// Checks the index frame's framing and returns the decompressed protobuf bytes (bounded size).
// `max_size` bounds the decompressed size.
absl::StatusOr<std::string> DecompressIndexFrame(std::string_view frame, uint64_t max_size);

// Builds a LayerIndex from the proto: validates every length, offset and id, then lays entries out
// in packed structs with one string arena and builds the directory tree.
class IndexLoader {
 public:
  // Decompresses, parses and loads an index frame.
  // Decompresses, parses and loads an index frame within `limits`.
  static absl::StatusOr<LayerIndex> LoadFrame(std::string_view frame, const IndexLimits& limits);
  // `max_entries` bounds the entries the loader may synthesize (implied parent directories) on top.
  static absl::StatusOr<LayerIndex> Load(tide::format::v1::LayerIndex& pb, uint64_t max_entries);
  // For readers of other formats: a proto built from their table of contents, whose chunks tile the
  // blob from `data_start` (not 0) and whose compression is `format`'s.
  // `checkpoints` (kGzipIndexed only) must have one checkpoint per chunk.
  static absl::StatusOr<LayerIndex> LoadPlaced(
      tide::format::v1::LayerIndex& pb, uint64_t max_entries, LayerFormat format, uint64_t data_start,
      std::shared_ptr<const InflateCheckpoints> checkpoints = nullptr);

 private:
  static absl::Status CheckColumns(const tide::format::v1::LayerIndex& pb, size_t n);
  static absl::Status LoadChunks(const tide::format::v1::LayerIndex& pb, LayerIndex* index);
  static absl::Status LoadEntries(const tide::format::v1::LayerIndex& pb, LayerIndex* index);
  static absl::Status BuildTree(LayerIndex* index, uint64_t max_entries);
  static absl::Status ResolveHardlinks(LayerIndex* index,
                                       const absl::flat_hash_map<absl::string_view, EntryId>& by_path);
  static void BuildChildren(LayerIndex* index);
};

}  // namespace tide::format

#endif  // TIDE_FORMAT_INDEX_LOADER_H_
