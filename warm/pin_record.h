#ifndef TIDE_WARM_PIN_RECORD_H_
#define TIDE_WARM_PIN_RECORD_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "layer/layer_mount.h"

namespace tide::warm {

// What a warm remembers with its pins (the cache keeps it opaque): enough to list the image's
// layers from the cache alone, without the registry, after a restart.
struct PinnedLayer {
  Digest digest;
  layer::IndexLocation index;
};

struct PinRecord {
  std::string reference;  // canonical, as registry::Reference::String() writes it
  Digest manifest;
  bool all = false;  // the whole image, not only its startup set
  std::vector<PinnedLayer> layers;
};

std::string EncodePinRecord(const PinRecord& record);
absl::StatusOr<PinRecord> DecodePinRecord(std::string_view text);

}  // namespace tide::warm

#endif  // TIDE_WARM_PIN_RECORD_H_
