#include "snapshotter/profile_keeper.h"

#include <algorithm>

#include "profile/startup_profile.h"
#include "snapshotter/log.h"

namespace tide::snapshotter {

ProfileKeeper::ProfileKeeper(fuse::LayerMountManager& manager, std::filesystem::path dir,
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

std::vector<uint32_t> ProfileKeeper::LearnedChunks(const Digest& layer,
                                                   const format::LayerIndex& index) const {
  std::vector<uint32_t> chunks;
  if (!Has(layer)) return chunks;
  auto prof = profile::ReadProfileFile(PathFor(layer).string());
  if (!prof.ok()) {
    log::Warn("ignoring learned profile", {{"error", prof.status().message()}});
    return chunks;
  }
  for (const profile::ProfileRead& r : prof->reads) {
    format::EntryId id = index.LookupPath(r.path);
    if (id == format::kNoEntry || index.type(index.Resolve(id)) != format::EntryType::kRegular) continue;
    format::ChunkRange range = index.ChunksFor(index.Resolve(id), r.offset, r.length);
    for (uint32_t c = range.first; c < range.first + range.count; ++c) {
      if (std::find(chunks.begin(), chunks.end(), c) == chunks.end()) chunks.push_back(c);
    }
  }
  return chunks;
}

// Under mu_. True when the layer's profile is complete (saved or given up).
bool ProfileKeeper::Check(const std::filesystem::path& mountpoint, Watched& w,
                          std::chrono::steady_clock::time_point now) {
  fuse::LayerMount* mount = manager_.Find(mountpoint);
  if (mount == nullptr || mount->recorder() == nullptr) return true;
  std::vector<fuse::AccessRecord> records = mount->recorder()->Snapshot();
  if (records.empty()) return false;
  if (w.reads == 0) w.first_read = now;
  if (records.size() != w.reads) {
    w.reads = records.size();
    w.last_change = now;
  }
  if (now - w.last_change < options_.idle && now - w.first_read < options_.limit) return false;
  profile::StartupProfile prof;
  size_t layer = prof.AddLayer(w.layer);
  const format::LayerIndex& index = mount->index();
  for (const fuse::AccessRecord& r : records) {
    prof.AddRead(layer, std::string(index.path(index.Resolve(r.entry_id))), r.offset, r.length);
  }
  mount->recorder()->Stop();
  absl::Status s = profile::WriteProfileFile(prof, PathFor(w.layer).string());
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
    auto now = std::chrono::steady_clock::now();
    for (auto it = watched_.begin(); it != watched_.end();) {
      it = Check(it->first, it->second, now) ? watched_.erase(it) : std::next(it);
    }
  }
}

}  // namespace tide::snapshotter
