#ifndef TIDE_SNAPSHOTTER_PROFILE_KEEPER_H_
#define TIDE_SNAPSHOTTER_PROFILE_KEEPER_H_

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "common/digest.h"
#include "format/layer_index.h"
#include "layer/layer_mount_manager.h"

namespace tide::snapshotter {

struct ProfileKeeperOptions {
  // A layer's startup reads end when no watched layer on the node had a new read for `idle`, or
  // `limit` after the layer's first read.
  std::chrono::milliseconds idle{3000};
  std::chrono::milliseconds limit{60000};
};

// Learned profiles: records what containers read from each remote layer from its first read until
// the node's recorded reads go idle (or a time limit), and keeps it as <dir>/<layer digest hex>.profile in
// the text format of docs/profiles.md (one layer, named by its blob digest), with <hex>.order saying when
// each read happened relative to the other layers' reads. The first recording of a layer on a node is kept;
// later runs use it for prefetch instead of recording again.
class ProfileKeeper {
 public:
  ProfileKeeper(layer::LayerMountManager& manager, std::filesystem::path dir,
                ProfileKeeperOptions options = {});
  ~ProfileKeeper();
  ProfileKeeper(const ProfileKeeper&) = delete;
  ProfileKeeper& operator=(const ProfileKeeper&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path PathFor(const Digest& layer) const;
  bool Has(const Digest& layer) const;
  // Starts watching the recorder of the mount at `mountpoint` (mounted with record_access).
  void Watch(const std::filesystem::path& mountpoint, const Digest& layer);
  // Stops watching; call before unmounting.
  void Forget(const std::filesystem::path& mountpoint);

  // <dir>/<layer digest hex>.order: when each read of the kept profile happened (profile/read_order.h).
  std::filesystem::path OrderPathFor(const Digest& layer) const;
  // The chunks of `index` a kept profile of `layer` reads, in access order, with their ranks in the
  // image-wide read order when the profile's read order was kept (empty without a profile).
  layer::LearnedStartup LearnedChunks(const Digest& layer, const format::LayerIndex& index) const;

 private:
  struct Watched {
    Digest layer;
    uint64_t reads = 0;
    std::chrono::steady_clock::time_point first_read;
    std::chrono::steady_clock::time_point last_change;
  };
  void Run();
  bool Observe(const std::filesystem::path& mountpoint, Watched& w,
               std::chrono::steady_clock::time_point now);
  bool Check(const std::filesystem::path& mountpoint, Watched& w, std::chrono::steady_clock::time_point now,
             std::chrono::steady_clock::time_point last_read_on_node);

  layer::LayerMountManager& manager_;
  const std::filesystem::path dir_;
  const ProfileKeeperOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::map<std::filesystem::path, Watched> watched_;
  std::thread thread_;
};

}  // namespace tide::snapshotter

#endif  // TIDE_SNAPSHOTTER_PROFILE_KEEPER_H_
