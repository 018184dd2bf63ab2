#ifndef TIDE_PULL_LAZY_PULLER_H_
#define TIDE_PULL_LAZY_PULLER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "containerd_client/containerd_client.h"
#include "oci/descriptor.h"
#include "oci/platform.h"
#include "registry/reference.h"
#include "registry/registry_client.h"

namespace tide::pull {

struct PullOptions {
  std::string snapshotter = "tide";
  oci::Platform platform = oci::Platform::Host();
  // The four containerd.io/snapshot/cri.* labels on Prepare, as CRI sends them. Off reproduces
  // what nerdctl sends for a snapshotter it does not know (snapshot.ref + layer annotations).
  bool cri_labels = true;
  // How long the pull's lease protects what it wrote if the process dies mid-pull.
  std::chrono::seconds lease_expiry{3600};
  // The gzip side index artifact to use for layers without an index of their own (--index);
  // empty: the snapshotter looks the image's referrers up.
  Digest side_index;
};

enum class LayerState {
  kPresent,      // the snapshot already existed (pulled before)
  kLazy,         // the snapshotter mounted it remotely: nothing downloaded
  kDownloading,  // fallback: the blob is being copied into the content store
  kApplying,     // fallback: containerd is unpacking it
  kApplied,      // fallback done: unpacked and committed
};
std::string_view LayerStateName(LayerState state);

struct LayerProgress {
  size_t index = 0;  // 0-based, bottom layer first
  size_t count = 0;
  Digest digest;
  std::string media_type;
  int64_t size = 0;
  LayerState state = LayerState::kPresent;
  int64_t bytes_done = 0;  // while downloading
  // What the layer's annotations say it is: "tide", "estargz", "zstd:chunked", "plain", or
  // "gzip+index" for a plain layer the image's gzip side index covers. Whether
  // it was served lazily is `state`; why not is in tide-snapshotter's log.
  std::string_view layer_format = "plain";
};
// The layer_format of a layer descriptor, from its annotations and media type.
std::string_view LayerFormatOf(const oci::Descriptor& layer);
using ProgressCallback = std::function<void(const LayerProgress&)>;

struct PullResult {
  std::string image_name;  // the image record's name
  oci::Descriptor target;  // what the record points at (index or manifest)
  Digest manifest_digest;  // the platform manifest
  Digest top_chain_id;     // the snapshot `ctr run` stacks containers on
  size_t layers_present = 0;
  size_t layers_lazy = 0;
  size_t layers_applied = 0;
  int64_t bytes_fetched = 0;  // index, manifest, config and downloaded layer blobs
  int64_t image_size = 0;     // manifest, config and all layer blobs
};

// Puts an image into containerd the way containerd's own pull-with-unpack does, but
// lets the snapshotter take each layer remotely: lease → manifests and config into the content
// store with GC labels → per layer Stat, Prepare with the remote-snapshot labels; ALREADY_EXISTS
// means the snapshotter serves the layer lazily, mounts mean it wants the layer unpacked, so the
// blob is downloaded and applied through the diff service and committed → config GC label for
// the snapshot chain → image record → lease removed. Registry errors (missing tag, refused
// credentials, no manifest for the platform) come before anything is written; a failure after
// that leaves no image record and only lease-held objects, which containerd's GC removes.
class LazyPuller {
 public:
  LazyPuller(containerd_client::ContainerdClient& containerd, registry::RegistryClient& registry,
             PullOptions options)
      : containerd_(containerd), registry_(registry), options_(std::move(options)) {}

  absl::StatusOr<PullResult> Pull(const registry::Reference& ref, const ProgressCallback& progress = {});

 private:
  containerd_client::ContainerdClient& containerd_;
  registry::RegistryClient& registry_;
  PullOptions options_;
};

// ChainID(L1..Ln) per the OCI image spec, one per prefix of diff_ids.
std::vector<Digest> ChainIds(const std::vector<Digest>& diff_ids);

}  // namespace tide::pull

#endif  // TIDE_PULL_LAZY_PULLER_H_
