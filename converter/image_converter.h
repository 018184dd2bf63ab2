#ifndef TIDE_CONVERTER_IMAGE_CONVERTER_H_
#define TIDE_CONVERTER_IMAGE_CONVERTER_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "converter/image_destination.h"
#include "converter/image_source.h"
#include "converter/progress.h"
#include "format/layer_writer.h"
#include "oci/descriptor.h"
#include "oci/platform.h"

namespace tide::converter {

// The startup set of a layer, given its source descriptor and config diff_id.
using StartupForLayer =
    std::function<std::vector<format::StartupFile>(const oci::Descriptor& source, const Digest& diff_id)>;

struct ConvertOptions {
  // Only this platform from a multi-platform index (all platforms when unset).
  std::optional<oci::Platform> platform;
  format::LayerWriterOptions writer;
  // `tidectl optimize` sets it (optimize.h); unset or an empty result keeps the layer's entry order.
  StartupForLayer startup_for_layer;
  // Layers converted at once; 0 means one per CPU (bounded by the number of layers).
  int parallel_layers = 0;
  Progress* progress = nullptr;
};

struct ConvertSummary {
  oci::Descriptor root;  // what the destination tag now points at
  int manifests = 0;
  int layers = 0;
  uint64_t tar_bytes = 0;
  uint64_t source_bytes = 0;
  uint64_t output_bytes = 0;
  // Startup sets (format::LayerWriteResult): their compressed bytes, and the startup ranges' bytes,
  // uncompressed and estimated compressed.
  uint64_t startup_bytes = 0;
  uint64_t startup_read_bytes = 0;
  uint64_t startup_read_compressed_bytes = 0;
};

// Converts an image manifest, or every (or the chosen) platform of an index, into tide layers:
// layers are rewritten by the tide layer writer (in parallel), configs get the new rootfs.diff_ids
// (history and everything else kept), and the destination tag is written last, only on success.
absl::StatusOr<ConvertSummary> ConvertImage(ImageSource& source, ImageDestination& dest,
                                            const ConvertOptions& options);

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_IMAGE_CONVERTER_H_
