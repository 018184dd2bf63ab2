#include "layer/index_chunk_stream.h"

#include <utility>

#include "format/chunk_stream_decoder.h"

namespace tide::layer {
namespace {

class IndexChunkStream : public fetch::ChunkStream {
 public:
  explicit IndexChunkStream(std::shared_ptr<const format::LayerIndex> index) : index_(std::move(index)) {}
  void Start(uint32_t index) override { decoder_.Start(index_->chunk(index)); }
  absl::Status Feed(std::string_view blob_bytes) override { return decoder_.Feed(blob_bytes); }
  absl::StatusOr<std::string_view> Finish() override { return decoder_.Finish(); }

 private:
  const std::shared_ptr<const format::LayerIndex> index_;
  format::ChunkStreamDecoder decoder_;
};

}  // namespace

fetch::ChunkStreamFactory IndexChunkStreams(std::shared_ptr<const format::LayerIndex> index) {
  if (index->format() != format::LayerFormat::kTide) return {};
  return [index = std::move(index)]() -> std::unique_ptr<fetch::ChunkStream> {
    return std::make_unique<IndexChunkStream>(index);
  };
}

}  // namespace tide::layer
