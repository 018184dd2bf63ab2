#ifndef TIDE_WARM_NODE_CACHE_H_
#define TIDE_WARM_NODE_CACHE_H_

#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "layer/layer_mount_manager.h"
#include "tide/cache/v1/cache.pb.h"
#include "warm/warm_plan.h"

namespace tide::warm {

// The daemon's cache management (docs/cache.md): warming images into the node's chunk cache and
// pinning them there, unpinning, and listing what the cache holds. The daemon owns the cache, so
// `tidectl warm` and `tidectl cache ls` ask it through the Cache API rather than touching it.
class NodeCache {
 public:
  NodeCache(layer::LayerMountManager& manager, LearnedStartupFn learned)
      : manager_(manager), learned_(std::move(learned)) {}

  // Pins the image's chunks (all, or its startup set) and fetches those not cached yet through the
  // node's prefetch queue, so a warm yields to container reads like any prefetch. `send` gets the plan
  // first, then progress about every `interval`, then a message with done set; when it returns
  // false (the client went away) the warm stops, and the pins stay: warming again finishes the job.
  // The last warm of a reference decides what is pinned for it.
  absl::Status Warm(const WarmRequest& request,
                    const std::function<bool(const tide::cache::v1::WarmProgress&)>& send,
                    std::chrono::milliseconds interval = std::chrono::milliseconds(250));
  // NotFound when the reference is not pinned.
  absl::Status Unpin(std::string_view reference);
  tide::cache::v1::ListResponse List();

 private:
  layer::LayerMountManager& manager_;
  const LearnedStartupFn learned_;
};

}  // namespace tide::warm

#endif  // TIDE_WARM_NODE_CACHE_H_
