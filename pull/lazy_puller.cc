#include "pull/lazy_puller.h"

#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/chain_id.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "containerd_client/content_writer.h"
#include "format/annotations.h"
#include "format/estargz/estargz_footer.h"
#include "format/zstd_chunked/containers_storage_toc.h"
#include "pull/pull_plan.h"
#include "pull/snapshot_labels.h"
#include "side_index/side_index_finder.h"

namespace tide::pull {
namespace {

constexpr int kPrepareAttempts = 3;  // containerd's unpacker retries a key clash the same way

std::string RandomToken(size_t bytes) {
  std::random_device device;
  std::string raw(bytes, '\0');
  for (char& c : raw) c = static_cast<char>(device() & 0xff);
  return absl::WebSafeBase64Escape(raw);
}

// containerd's form: "extract-<nanoseconds>-<random> <chainID>".
std::string ExtractionKey(const Digest& chain_id) {
  int64_t nanos = absl::ToUnixNanos(absl::Now()) % 1000000000;
  return absl::StrCat("extract-", nanos, "-", RandomToken(3), " ", chain_id.str());
}

containerd::types::Descriptor ToProto(const oci::Descriptor& d) {
  containerd::types::Descriptor out;
  out.set_media_type(d.media_type);
  out.set_digest(d.digest.str());
  out.set_size(d.size);
  out.mutable_annotations()->insert(d.annotations.begin(), d.annotations.end());
  return out;
}

// Holds the pull's lease: objects written under it survive until the image record references
// them, and everything is left to GC when the pull fails half-way.
class LeaseGuard {
 public:
  explicit LeaseGuard(containerd_client::ContainerdClient& client) : client_(client) {}
  LeaseGuard(const LeaseGuard&) = delete;
  LeaseGuard& operator=(const LeaseGuard&) = delete;
  ~LeaseGuard() { Release().IgnoreError(); }

  absl::Status Acquire(std::chrono::seconds expiry) {
    std::string id = absl::StrCat("tidectl-pull-", absl::ToUnixNanos(absl::Now()), "-", RandomToken(6));
    std::string expire =
        absl::FormatTime(absl::RFC3339_sec, absl::Now() + absl::FromChrono(expiry), absl::UTCTimeZone());
    TIDE_RETURN_IF_ERROR(client_.CreateLease(id, {{kGcExpireLabel, expire}}));
    id_ = id;
    client_.set_lease(id);
    return absl::OkStatus();
  }

  absl::Status Release() {
    if (id_.empty()) return absl::OkStatus();
    std::string id = std::move(id_);
    id_.clear();
    client_.set_lease("");
    return client_.DeleteLease(id, /*sync=*/false);
  }

 private:
  containerd_client::ContainerdClient& client_;
  std::string id_;
};

class PullRun {
 public:
  PullRun(containerd_client::ContainerdClient& containerd, registry::RegistryClient& registry,
          const PullOptions& options, PullPlan plan, const ProgressCallback& progress)
      : containerd_(containerd),
        registry_(registry),
        options_(options),
        plan_(std::move(plan)),
        progress_(progress) {}

  absl::StatusOr<PullResult> Run() {
    result_.image_name = plan_.ref.String();
    result_.target = plan_.target();
    result_.manifest_digest = plan_.manifest.descriptor.digest;
    result_.bytes_fetched = plan_.fetched_bytes();
    result_.image_size = plan_.image_size();

    LeaseGuard lease(containerd_);
    TIDE_RETURN_IF_ERROR(lease.Acquire(options_.lease_expiry));
    TIDE_RETURN_IF_ERROR(StoreDocuments());
    FindSideIndexes();
    for (size_t i = 0; i < plan_.chain_ids.size(); ++i) {
      TIDE_ASSIGN_OR_RETURN(LayerState state, UnpackLayer(i));
      Report(i, state, 0);
      if (state == LayerState::kPresent) ++result_.layers_present;
      if (state == LayerState::kLazy) ++result_.layers_lazy;
      if (state == LayerState::kApplied) ++result_.layers_applied;
    }
    if (!plan_.chain_ids.empty()) {
      result_.top_chain_id = plan_.chain_ids.back();
      TIDE_RETURN_IF_ERROR(containerd_.UpdateContentLabels(
          plan_.config.descriptor.digest.str(),
          {{absl::StrCat(kGcRefSnapshotPrefix, options_.snapshotter), result_.top_chain_id.str()}}));
    }
    containerd::services::images::v1::Image image;
    image.set_name(result_.image_name);
    *image.mutable_target() = ToProto(plan_.target());
    image.mutable_target()->clear_annotations();
    TIDE_RETURN_IF_ERROR(containerd_.PutImage(image));
    // The image now holds everything through GC references; a failed lease delete only means the
    // lease lingers until it expires.
    lease.Release().IgnoreError();
    return result_;
  }

 private:
  // Children before parents, each with the GC labels that tie it to what it references.
  absl::Status StoreDocuments() {
    containerd_client::Labels source = DistributionSourceLabel(plan_.ref);
    const FetchedDocument& config = plan_.config;
    TIDE_RETURN_IF_ERROR(Store("config-", config, source));
    containerd_client::Labels manifest_labels = ManifestGcLabels(plan_.parsed_manifest);
    manifest_labels.insert(source.begin(), source.end());
    TIDE_RETURN_IF_ERROR(Store("manifest-", plan_.manifest, manifest_labels));
    if (plan_.index) {
      containerd_client::Labels index_labels = IndexGcLabels(plan_.index_manifests);
      index_labels.insert(source.begin(), source.end());
      TIDE_RETURN_IF_ERROR(Store("index-", *plan_.index, index_labels));
    }
    return absl::OkStatus();
  }

  absl::Status Store(std::string_view prefix, const FetchedDocument& doc,
                     const containerd_client::Labels& labels) {
    containerd_client::BlobWrite blob{absl::StrCat(Sv(prefix), doc.descriptor.digest.str()),
                                      doc.descriptor.digest.str(), static_cast<int64_t>(doc.bytes.size()),
                                      labels};
    return containerd_client::WriteBlobBytes(containerd_, blob, doc.bytes).status();
  }

  absl::StatusOr<LayerState> UnpackLayer(size_t i) {
    const Digest& chain_id = plan_.chain_ids[i];
    auto existing = containerd_.StatSnapshot(options_.snapshotter, chain_id.str());
    if (existing.ok()) return LayerState::kPresent;
    if (!absl::IsNotFound(existing.status())) return existing.status();

    const std::string parent = i == 0 ? "" : plan_.chain_ids[i - 1].str();
    const containerd_client::Labels labels =
        PrepareLabels(plan_, i, options_.cri_labels, options_.side_index);
    absl::Status last;
    for (int attempt = 0; attempt < kPrepareAttempts; ++attempt) {
      const std::string key = ExtractionKey(chain_id);
      auto mounts = containerd_.PrepareSnapshot(options_.snapshotter, key, parent, labels);
      if (mounts.ok()) {
        TIDE_RETURN_IF_ERROR(UnpackLocally(i, key, *mounts, labels));
        return LayerState::kApplied;
      }
      if (!absl::IsAlreadyExists(mounts.status())) return mounts.status();
      // The snapshotter took the layer remotely, or another pull committed it meanwhile; either
      // way the chainID now resolves. Still missing means a key clash: try a fresh key.
      if (containerd_.StatSnapshot(options_.snapshotter, chain_id.str()).ok()) return LayerState::kLazy;
      last = mounts.status();
    }
    return absl::InternalError(absl::StrCat("layer ", i, " (", plan_.parsed_manifest.layers[i].digest.str(),
                                            "): snapshotter ", options_.snapshotter,
                                            " reports the snapshot as existing but containerd cannot find ",
                                            chain_id.str(), ": ", last.message()));
  }

  // The fallback containerd's unpacker takes when Prepare hands back mounts.
  absl::Status UnpackLocally(size_t i, const std::string& key,
                             const std::vector<containerd::types::Mount>& mounts,
                             const containerd_client::Labels& labels) {
    absl::Status status = DownloadAndApply(i, mounts);
    bool committed = false;
    if (status.ok()) {
      status = containerd_.CommitSnapshot(options_.snapshotter, plan_.chain_ids[i].str(), key, labels);
      committed = status.ok();
      // Another client committed the same chainID first: theirs is as good as ours.
      if (absl::IsAlreadyExists(status)) status = absl::OkStatus();
    }
    if (!committed) containerd_.RemoveSnapshot(options_.snapshotter, key).IgnoreError();
    if (!status.ok()) return status;
    const oci::Descriptor& layer = plan_.parsed_manifest.layers[i];
    return containerd_.UpdateContentLabels(layer.digest.str(),
                                           {{kUncompressedLabel, plan_.diff_ids[i].str()}});
  }

  absl::Status DownloadAndApply(size_t i, const std::vector<containerd::types::Mount>& mounts) {
    const oci::Descriptor& layer = plan_.parsed_manifest.layers[i];
    Report(i, LayerState::kDownloading, 0);
    containerd_client::BlobWrite blob{absl::StrCat("layer-", layer.digest.str()), layer.digest.str(),
                                      layer.size, DistributionSourceLabel(plan_.ref)};
    int64_t done = 0;
    auto written = containerd_client::WriteBlob(containerd_, blob, [&](const auto& write) {
      return registry_.FetchBlob(
          plan_.ref, layer.digest,
          [&](std::string_view data) {
            TIDE_RETURN_IF_ERROR(write(data));
            done += static_cast<int64_t>(data.size());
            Report(i, LayerState::kDownloading, done);
            return absl::OkStatus();
          },
          layer.size);
    });
    if (!written.ok()) return written.status();
    result_.bytes_fetched += done;
    Report(i, LayerState::kApplying, done);
    TIDE_ASSIGN_OR_RETURN(containerd::types::Descriptor applied, containerd_.Apply(ToProto(layer), mounts));
    if (applied.digest() != plan_.diff_ids[i].str()) {
      return absl::DataLossError(absl::StrCat("layer ", i, " (", layer.digest.str(), ") unpacked to ",
                                              applied.digest(), " but the image config says its diff_id is ",
                                              plan_.diff_ids[i].str()));
    }
    return absl::OkStatus();
  }

  // Which plain layers the image's gzip side index covers, for the progress lines only: the
  // snapshotter makes its own lookup and decides.
  void FindSideIndexes() {
    if (!progress_) return;
    side_index::SideIndexFinder finder(registry_);
    side_indexed_.assign(plan_.parsed_manifest.layers.size(), false);
    for (size_t i = 0; i < side_indexed_.size(); ++i) {
      const oci::Descriptor& layer = plan_.parsed_manifest.layers[i];
      if (LayerFormatOf(layer) != "plain") continue;
      side_indexed_[i] =
          finder.Find(plan_.ref, plan_.manifest.descriptor.digest, layer.digest, options_.side_index).ok();
      if (finder.KnownAbsent(plan_.manifest.descriptor.digest, options_.side_index)) break;
    }
  }

  void Report(size_t i, LayerState state, int64_t bytes_done) {
    if (!progress_) return;
    const oci::Descriptor& layer = plan_.parsed_manifest.layers[i];
    const bool indexed = i < side_indexed_.size() && side_indexed_[i];
    progress_(LayerProgress{i, plan_.chain_ids.size(), layer.digest, layer.media_type, layer.size, state,
                            bytes_done, indexed ? std::string_view("gzip+index") : LayerFormatOf(layer)});
  }

  containerd_client::ContainerdClient& containerd_;
  registry::RegistryClient& registry_;
  const PullOptions& options_;
  PullPlan plan_;
  const ProgressCallback& progress_;
  PullResult result_;
  std::vector<bool> side_indexed_;
};

}  // namespace

std::string_view LayerFormatOf(const oci::Descriptor& layer) {
  if (layer.annotations.count(std::string(format::kAnnotationIndexDigest)) != 0) return "tide";
  if (layer.annotations.count(std::string(format::kEstargzTocDigestAnnotation)) != 0)
    return absl::StrContains(layer.media_type, "zstd") ? "zstd:chunked" : "estargz";
  if (layer.annotations.count(std::string(format::kContainersStorageTocChecksumAnnotation)) != 0)
    return "zstd:chunked";
  return "plain";
}

std::string_view LayerStateName(LayerState state) {
  switch (state) {
    case LayerState::kPresent:
      return "present";
    case LayerState::kLazy:
      return "lazy";
    case LayerState::kDownloading:
      return "downloading";
    case LayerState::kApplying:
      return "applying";
    case LayerState::kApplied:
      return "applied";
  }
  return "unknown";
}

std::vector<Digest> ChainIds(const std::vector<Digest>& diff_ids) {
  std::vector<Digest> chain;
  chain.reserve(diff_ids.size());
  for (const Digest& diff_id : diff_ids)
    chain.push_back(ChainIdOf(chain.empty() ? "" : chain.back().str(), diff_id));
  return chain;
}

absl::StatusOr<PullResult> LazyPuller::Pull(const registry::Reference& ref,
                                            const ProgressCallback& progress) {
  // Everything the registry can refuse is asked before containerd is touched, so a bad reference,
  // credentials or platform leave nothing behind.
  TIDE_ASSIGN_OR_RETURN(PullPlan plan, PlanPull(registry_, ref, options_.platform));
  PullRun run(containerd_, registry_, options_, std::move(plan), progress);
  return run.Run();
}

}  // namespace tide::pull
