#ifndef TIDE_PROFILE_LAYER_RECORDS_H_
#define TIDE_PROFILE_LAYER_RECORDS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/digest.h"
#include "layer/access_recorder.h"
#include "profile/startup_profile.h"

namespace tide::profile {

// The reads one layer's FUSE mount recorded, and how to name the files they touched.
struct LayerRecords {
  Digest layer;  // as the profile names it (diff_id)
  std::vector<layer::AccessRecord> records;
  // The normalized layer path of an entry id of this layer's index.
  std::function<std::string(uint32_t entry_id)> path_of;
};

// One profile from all layers' records, its reads in global access order (by AccessRecord::seq),
// so reads of different layers stay interleaved as they happened. Layers are declared in the
// order given (bottom first), also those without reads.
StartupProfile MergeLayerRecords(const std::vector<LayerRecords>& layers);

}  // namespace tide::profile

#endif  // TIDE_PROFILE_LAYER_RECORDS_H_
