#include "profile/layer_records.h"

#include <algorithm>

namespace tide::profile {

StartupProfile MergeLayerRecords(const std::vector<LayerRecords>& layers) {
  struct Ref {
    uint64_t seq;
    size_t layer;  // index into `layers`
    size_t record;
  };
  std::vector<Ref> refs;
  for (size_t l = 0; l < layers.size(); ++l) {
    for (size_t r = 0; r < layers[l].records.size(); ++r) refs.push_back({layers[l].records[r].seq, l, r});
  }
  std::stable_sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) { return a.seq < b.seq; });
  StartupProfile profile;
  std::vector<size_t> profile_layer(layers.size());
  for (size_t l = 0; l < layers.size(); ++l) profile_layer[l] = profile.AddLayer(layers[l].layer);
  for (const Ref& ref : refs) {
    const layer::AccessRecord& r = layers[ref.layer].records[ref.record];
    profile.AddRead(profile_layer[ref.layer], layers[ref.layer].path_of(r.entry_id), r.offset, r.length);
  }
  return profile;
}

}  // namespace tide::profile
