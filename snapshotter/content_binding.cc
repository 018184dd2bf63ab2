#include "snapshotter/content_binding.h"

#include "absl/strings/str_cat.h"
#include "common/chain_id.h"
#include "common/containerd_labels.h"
#include "common/string_view_compat.h"
#include "snapshotter/remote_layer_labels.h"

namespace tide::snapshotter {

absl::StatusOr<std::string> ChainIdOfSnapshot(const SnapshotInfo& info) {
  auto ref = info.labels.find(kSnapshotRefLabel);
  if (ref != info.labels.end()) {
    auto digest = Digest::Parse(ref->second);
    if (digest.ok()) return digest->str();
  }
  const size_t slash = info.name.rfind('/');
  auto digest = Digest::Parse(slash == std::string::npos ? info.name : info.name.substr(slash + 1));
  if (digest.ok()) return digest->str();
  return absl::NotFoundError(
      absl::StrCat("snapshot ", info.name, " does not say which chainID it stands for"));
}

absl::Status CheckChainBinding(std::string_view ref, std::string_view parent_chain_id,
                               const Digest& diff_id) {
  const Digest chain = ChainIdOf(parent_chain_id, diff_id);
  if (chain.str() == ref) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat("layer content (diff_id ", diff_id.str(), ") on parent ",
                                                  parent_chain_id.empty() ? "none" : Sv(parent_chain_id),
                                                  " is chainID ", chain.str(), ", not ", Sv(ref)));
}

bool SameRemoteLayer(const Labels& a, const Labels& b) {
  auto la = LocateRemoteLayer(a);
  auto lb = LocateRemoteLayer(b);
  if (!la.ok() || !lb.ok()) return false;
  if (la->layer_digest.empty() && la->index_digest.empty()) return false;
  return la->layer_digest == lb->layer_digest && la->index_digest == lb->index_digest;
}

}  // namespace tide::snapshotter
