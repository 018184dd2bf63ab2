#ifndef TIDE_CONVERTER_LAYER_CONVERTER_H_
#define TIDE_CONVERTER_LAYER_CONVERTER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "converter/image_destination.h"
#include "converter/image_source.h"
#include "converter/progress.h"
#include "format/layer_writer.h"
#include "oci/descriptor.h"

namespace tide::converter {

struct ConvertedLayer {
  oci::Descriptor descriptor;  // the tide layer (tar+zstd with the writer's annotations)
  Digest diff_id;              // sha256 of its uncompressed tar
  format::LayerWriteResult stats;
};

struct LayerJob {
  oci::Descriptor source;
  std::optional<Digest> expected_diff_id;  // from the source config, checked when present
  std::string name;                        // for messages: "layer 2/4 sha256:ab12…"
};

// Converts one layer: reads the stored blob, decompresses it by media type, feeds the tar to the
// tide layer writer and commits the result at the destination. Fails, naming the layer (and the
// writer names the entry), on corrupt or truncated compression, bad tar content, or a blob whose
// digest, size or uncompressed digest differs from what the manifest and config promise.
absl::StatusOr<ConvertedLayer> ConvertLayer(ImageSource& source, ImageDestination& dest, const LayerJob& job,
                                            const format::LayerWriterOptions& writer_options,
                                            Progress* progress);

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_LAYER_CONVERTER_H_
