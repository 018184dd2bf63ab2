#ifndef TIDE_LAYER_INDEX_CHUNK_STREAM_H_
#define TIDE_LAYER_INDEX_CHUNK_STREAM_H_

#include <memory>

#include "fetch/chunk_stream.h"
#include "format/layer_index.h"

namespace tide::layer {

// Streams for a ChunkFetcher of a tide layer, whose every chunk is one zstd frame
// (format::ChunkStreamDecoder); an empty factory for other formats, which decode whole chunks. Holds
// the index, as IndexChunkDecoder does.
fetch::ChunkStreamFactory IndexChunkStreams(std::shared_ptr<const format::LayerIndex> index);

}  // namespace tide::layer

#endif  // TIDE_LAYER_INDEX_CHUNK_STREAM_H_
