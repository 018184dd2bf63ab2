#ifndef TIDE_LAYER_LAYER_STATUS_H_
#define TIDE_LAYER_LAYER_STATUS_H_

#include <nlohmann/json.hpp>

#include "layer/layer_mount_manager.h"

namespace tide::layer {

// The mounted layers grouped by image repository, for `tidectl status`:
// {"images": [{"image": "host/repo", "layers": [{"layer", "mountpoint", "bytes_cached", "bytes",
// "chunks_cached", "chunks", "prefetch": "none"|"running"|"done", "mounted_seconds", "read_errors",
// "poisoned"}]}]}. Bytes are uncompressed (the layer's tar).
nlohmann::json LayerStatus(LayerMountManager& manager);

}  // namespace tide::layer

#endif  // TIDE_LAYER_LAYER_STATUS_H_
