#include "snapshotter/profile_keeper.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "common/log.h"
#include "profile/read_order.h"
#include "profile/startup_profile.h"

namespace tide::snapshotter {

ProfileKeeper::ProfileKeeper(layer::LayerMountManager& manager, std::filesystem::path dir,
                             ProfileKeeperOptions options)
    : manager_(manager), dir_(std::move(dir)), options_(options) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  thread_ = std::thread([this] { Run(); });
}

ProfileKeeper::~ProfileKeeper() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::filesystem::path ProfileKeeper::PathFor(const Digest& layer) const {
  return dir_ / (std::string(layer.hex()) + ".profile");
}

bool ProfileKeeper::Has(const Digest& layer) const {
  std::error_code ec;
  return std::filesystem::exists(PathFor(layer), ec);
}

void ProfileKeeper::Watch(const std::filesystem::path& mountpoint, const Digest& layer) {
  if (Has(layer)) return;  // the first recording is kept
  std::lock_guard<std::mutex> lock(mu_);
  watched_[mountpoint] = Watched{layer, 0, {}, {}};
}

void ProfileKeeper::Forget(const std::filesystem::path& mountpoint) {
  std::lock_guard<std::mutex> lock(mu_);
  watched_.erase(mountpoint);
}

std::filesystem::path ProfileKeeper::OrderPathFor(const Digest& layer) const {
  return dir_ / (std::string(layer.hex()) + ".order");
}

layer::LearnedStartup ProfileKeeper::LearnedChunks(const Digest& layer,
                                                   const format::LayerIndex& index) const {
  layer::LearnedStartup learned;
  if (!Has(layer)) return learned;
  auto prof = profile::ReadProfileFile(PathFor(layer).string());
  if (!prof.ok()) {
    log::Warn("ignoring learned profile", {{"error", prof.status().message()}});
    return learned;
  }
  // Without a usable read order the chunks keep their per-layer order (ranks left empty).
  auto order = profile::ReadReadOrder(OrderPathFor(layer), prof->reads.size());
  if (!order.ok() && !absl::IsNotFound(order.status())) {
    log::Warn("ignoring learned read order", {{"error", order.status().message()}});
  }
  absl::flat_hash_set<uint32_t> seen;
  for (size_t i = 0; i < prof->reads.size(); ++i) {
    const profile::ProfileRead& r = prof->reads[i];
    format::EntryId id = index.LookupPath(r.path);
    if (id == format::kNoEntry || index.type(index.Resolve(id)) != format::EntryType::kRegular) continue;
    format::ChunkRange range = index.ChunksFor(index.Resolve(id), r.offset, r.length);
    // Ranks only order reads; a recorder would need 2^32 reads to saturate one.
    const uint32_t rank = order.ok() ? static_cast<uint32_t>(std::min<uint64_t>((*order)[i], UINT32_MAX)) : 0;
    for (uint32_t c = range.first; c < range.first + range.count; ++c) {
      if (!seen.insert(c).second) continue;
      learned.chunks.push_back(c);
      if (order.ok()) learned.ranks.push_back(rank);
    }
  }
  return learned;
}

// Under mu_. Notes the layer's new reads; false when its mount or recorder is gone.
bool ProfileKeeper::Observe(const std::filesystem::path& mountpoint, Watched& w,
                            std::chrono::steady_clock::time_point now) {
  layer::LayerMount* mount = manager_.Find(mountpoint);
  if (mount == nullptr || mount->recorder() == nullptr) return false;
  const uint64_t reads = mount->recorder()->reads();
  if (reads == 0) return true;
  if (w.reads == 0) w.first_read = now;
  if (reads != w.reads) {
    w.reads = reads;
    w.last_change = now;
  }
  return true;
}

// Under mu_. Keeps the layer's profile; true when it is complete (saved or given up).
bool ProfileKeeper::Check(const std::filesystem::path& mountpoint, Watched& w,
                          std::chrono::steady_clock::time_point now,
                          std::chrono::steady_clock::time_point last_read_on_node) {
  layer::LayerMount* mount = manager_.Find(mountpoint);
  if (mount == nullptr || mount->recorder() == nullptr) return true;
  if (w.reads == 0) return false;
  // A layer's reads pause while its workload reads other layers (or waits for their fetches), so
  // its startup ends when the node's recorded reads go quiet, not its own.
  if (now - last_read_on_node < options_.idle && now - w.first_read < options_.limit) return false;
  std::vector<layer::AccessRecord> records = mount->recorder()->Snapshot();
  profile::StartupProfile prof;
  size_t layer = prof.AddLayer(w.layer);
  const format::LayerIndex& index = mount->index();
  std::vector<uint64_t> order;  // parallel to prof.reads; AddRead may merge a record into the last read
  for (const layer::AccessRecord& r : records) {
    const size_t before = prof.reads.size();
    prof.AddRead(layer, std::string(index.path(index.Resolve(r.entry_id))), r.offset, r.length);
    if (prof.reads.size() > before) order.push_back(r.seq);
  }
  mount->recorder()->Stop();
  // The order first: Has() looks for the profile, which must not appear without it.
  absl::Status s = profile::WriteReadOrder(OrderPathFor(w.layer), order);
  if (s.ok()) s = profile::WriteProfileFile(prof, PathFor(w.layer).string());
  if (!s.ok()) {
    log::Warn("cannot keep learned profile", {{"layer", w.layer.str()}, {"error", s.message()}});
  } else {
    log::Info("kept learned profile",
              {{"layer", w.layer.str()}, {"reads", std::to_string(prof.reads.size())}});
  }
  return true;
}

void ProfileKeeper::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(250));
    const auto now = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_read_on_node;
    for (auto it = watched_.begin(); it != watched_.end();) {
      if (!Observe(it->first, it->second, now)) {
        it = watched_.erase(it);
        continue;
      }
      if (it->second.reads > 0) last_read_on_node = std::max(last_read_on_node, it->second.last_change);
      ++it;
    }
    for (auto it = watched_.begin(); it != watched_.end();) {
      it = Check(it->first, it->second, now, last_read_on_node) ? watched_.erase(it) : std::next(it);
    }
  }
}

}  // namespace tide::snapshotter
