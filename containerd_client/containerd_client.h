#ifndef TIDE_CONTAINERD_CLIENT_CONTAINERD_CLIENT_H_
#define TIDE_CONTAINERD_CLIENT_CONTAINERD_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "containerd/services/content/v1/content.grpc.pb.h"
#include "containerd/services/diff/v1/diff.grpc.pb.h"
#include "containerd/services/images/v1/images.grpc.pb.h"
#include "containerd/services/leases/v1/leases.grpc.pb.h"
#include "containerd/services/snapshots/v1/snapshots.grpc.pb.h"

namespace tide::containerd_client {

using Labels = std::map<std::string, std::string>;

inline constexpr char kDefaultContainerdAddress[] = "/run/containerd/containerd.sock";
inline constexpr char kDefaultNamespace[] = "default";
// How long a call may take unless it says otherwise.
inline constexpr std::chrono::seconds kDefaultCallTimeout{60};

// A gRPC connection to containerd over its unix socket. Every call carries the namespace and, once
// set, the lease: containerd rejects calls without a namespace, and objects created
// under a lease stay protected from GC until the image record references them.
//
// Thin typed wrappers cover the calls the lazy puller makes; they map gRPC errors to absl codes
// with a message naming the call and its subject. stub_*() give raw access for anything else.
class ContainerdClient {
 public:
  static absl::StatusOr<std::unique_ptr<ContainerdClient>> Connect(const std::string& address,
                                                                   const std::string& ns);

  const std::string& address() const { return address_; }
  const std::string& ns() const { return namespace_; }
  // Sent as `containerd-lease` on every later call; empty stops sending it.
  void set_lease(std::string lease_id) { lease_ = std::move(lease_id); }
  const std::string& lease() const { return lease_; }

  // A context with namespace, lease and a deadline `timeout` from now.
  std::unique_ptr<grpc::ClientContext> NewContext(std::chrono::seconds timeout = kDefaultCallTimeout) const;

  // Leases.
  absl::Status CreateLease(const std::string& id, const Labels& labels);
  absl::Status DeleteLease(const std::string& id, bool sync);

  // Content.
  absl::StatusOr<containerd::services::content::v1::Info> ContentInfo(const std::string& digest);
  // Sets (or, for an empty value, deletes) each label without touching the others.
  absl::Status UpdateContentLabels(const std::string& digest, const Labels& labels);

  // Snapshots. Prepare returns the mounts; ALREADY_EXISTS comes back as an absl AlreadyExists
  // status whose message is containerd's (the caller tells the remote case from a key clash).
  absl::StatusOr<containerd::services::snapshots::v1::Info> StatSnapshot(const std::string& snapshotter,
                                                                         const std::string& key);
  absl::StatusOr<std::vector<containerd::types::Mount>> PrepareSnapshot(const std::string& snapshotter,
                                                                        const std::string& key,
                                                                        const std::string& parent,
                                                                        const Labels& labels);
  absl::Status CommitSnapshot(const std::string& snapshotter, const std::string& name, const std::string& key,
                              const Labels& labels);
  absl::Status RemoveSnapshot(const std::string& snapshotter, const std::string& key);

  // Diff: applies a layer blob (already in the content store) onto mounts; returns the descriptor
  // of the uncompressed stream (its digest is the DiffID).
  absl::StatusOr<containerd::types::Descriptor> Apply(const containerd::types::Descriptor& layer,
                                                      const std::vector<containerd::types::Mount>& mounts);

  // Images.
  absl::StatusOr<containerd::services::images::v1::Image> GetImage(const std::string& name);
  // Creates the image, or points an existing record with that name at the new target.
  absl::Status PutImage(const containerd::services::images::v1::Image& image);

  containerd::services::content::v1::Content::Stub& content() { return *content_; }
  containerd::services::snapshots::v1::Snapshots::Stub& snapshots() { return *snapshots_; }
  containerd::services::images::v1::Images::Stub& images() { return *images_; }
  containerd::services::leases::v1::Leases::Stub& leases() { return *leases_; }
  containerd::services::diff::v1::Diff::Stub& diff() { return *diff_; }

 private:
  ContainerdClient() = default;

  std::string address_;
  std::string namespace_;
  std::string lease_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<containerd::services::content::v1::Content::Stub> content_;
  std::unique_ptr<containerd::services::snapshots::v1::Snapshots::Stub> snapshots_;
  std::unique_ptr<containerd::services::images::v1::Images::Stub> images_;
  std::unique_ptr<containerd::services::leases::v1::Leases::Stub> leases_;
  std::unique_ptr<containerd::services::diff::v1::Diff::Stub> diff_;
};

// containerd's errdefs mapping onto absl codes; `what` prefixes the message.
absl::Status FromGrpc(const grpc::Status& status, std::string_view what);

}  // namespace tide::containerd_client

#endif  // TIDE_CONTAINERD_CLIENT_CONTAINERD_CLIENT_H_
