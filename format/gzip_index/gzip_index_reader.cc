#include "format/gzip_index/gzip_index_reader.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "format/gzip_index/inflate_checkpoints.h"
#include "format/index_loader.h"
#include "format/index_memory_cost.h"

namespace tide::format {
namespace {

constexpr uint64_t kGzipHeaderMin = 10;
constexpr uint64_t kGzipTrailer = 8;

absl::Status Malformed(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed gzip side index: ", std::string(what)));
}

}  // namespace

absl::StatusOr<LayerIndex> LoadGzipIndex(std::string_view frame, const Digest& layer_digest,
                                         uint64_t blob_size, const IndexLimits& limits) {
  TIDE_ASSIGN_OR_RETURN(std::string raw, DecompressIndexFrame(frame, limits.max_memory));
  TIDE_ASSIGN_OR_RETURN(uint64_t needed, EstimateIndexMemory(raw));
  if (needed > limits.max_memory) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "gzip side index needs ~", needed, " bytes of memory, over the ", limits.max_memory, " limit"));
  }
  tide::format::v1::LayerIndex pb;
  if (!pb.ParseFromString(raw)) return Malformed("protobuf does not parse");
  if (pb.gzip_layer_digest() != layer_digest.str()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "gzip side index describes layer \"", pb.gzip_layer_digest(), "\", not ", layer_digest.str()));
  }
  if (pb.gzip_blob_size() != blob_size) {
    return absl::FailedPreconditionError(absl::StrCat("gzip side index describes a ", pb.gzip_blob_size(),
                                                      "-byte blob, the layer has ", blob_size));
  }
  const uint64_t start = pb.gzip_data_start();
  if (blob_size < kGzipHeaderMin + kGzipTrailer || start < kGzipHeaderMin || start > blob_size - kGzipTrailer)
    return Malformed(absl::StrCat("deflate data start ", start, " outside the blob"));
  const size_t chunks = static_cast<size_t>(pb.chunk_compressed_sizes_size());
  TIDE_ASSIGN_OR_RETURN(InflateCheckpoints points, InflateCheckpoints::TakeFromProto(pb, chunks));
  const uint64_t spare = (limits.max_memory - needed) / kIndexEntryCost;
  TIDE_ASSIGN_OR_RETURN(LayerIndex index, IndexLoader::LoadPlaced(
                                              pb, static_cast<uint64_t>(pb.path_lengths_size()) + 1 + spare,
                                              LayerFormat::kGzipIndexed, start,
                                              std::make_shared<const InflateCheckpoints>(std::move(points))));
  if (index.chunks().empty() || index.data_end() != blob_size - kGzipTrailer) {
    return Malformed(absl::StrCat("chunks end at ", index.data_end(), ", not at the gzip trailer (",
                                  blob_size - kGzipTrailer, ")"));
  }
  return index;
}

}  // namespace tide::format
