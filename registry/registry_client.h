#ifndef TIDE_REGISTRY_REGISTRY_CLIENT_H_
#define TIDE_REGISTRY_REGISTRY_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "oci/descriptor.h"
#include "oci/platform.h"
#include "registry/blob_range_reader.h"
#include "registry/credentials.h"
#include "registry/reference.h"
#include "registry/retry_policy.h"

namespace tide::registry {

class ClientCore;

struct RegistryClientOptions {
  // containerd's certs.d layout (<dir>/<host>/hosts.toml) for mirrors, CAs, client certs and
  // skip_verify; empty means no hosts config.
  std::string hosts_dir;
  // Talk plain http to registries that have no hosts.toml saying otherwise (--plain-http).
  // localhost and 127.0.0.0/8 use http regardless, as containerd does.
  bool plain_http = false;
  // docker config.json; empty means $DOCKER_CONFIG or ~/.docker. Missing file: anonymous.
  std::string docker_config_path;
  // Credentials by registry host ("docker.io", "127.0.0.1:5000"); these win over config.json.
  std::map<std::string, Credential> credentials;
  std::string credential_helper_dir;  // searched before PATH for docker-credential-* (tests)
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds low_speed_time{30000};  // a transfer stalled this long is retried
  // The same for a host that has another host after it (a mirror): a stalled mirror is left for
  // the next host after this long, instead of being retried.
  std::chrono::milliseconds mirror_stall_time{5000};
  RetryOptions retry;
  std::string user_agent = "tide/0.1";
  size_t max_concurrent_ranges = 16;  // parallel requests in one ReadBlobRanges batch
  size_t max_manifest_bytes = 4 << 20;
};

struct FetchedManifest {
  std::string bytes;       // verified against digest
  std::string media_type;  // from Content-Type, or the document's mediaType field
  Digest digest;
};

// Receives a blob's bytes in order. The digest is checked after the last byte: when FetchBlob
// returns an error the sink must discard everything it was given.
using BlobSink = std::function<absl::Status(std::string_view)>;

struct PushBlobOptions {
  // Repository (same registry) to cross-mount the blob from instead of uploading it.
  std::string mount_from;
  // 0: one monolithic PUT; otherwise upload in PATCH chunks of this size.
  uint64_t chunk_size = 0;
};

enum class PushOutcome { kAlreadyExists, kMounted, kUploaded };

// The manifests that name a subject manifest (OCI 1.1 referrers), and where the list came from.
struct ReferrersList {
  std::vector<oci::Descriptor> manifests;
  // The registry has no referrers API (docker-registry 2.8): the list is the referrers tag's index.
  bool from_fallback_tag = false;
};

// The referrers tag schema's tag for a subject: "sha256-<hex>".
std::string ReferrersTag(const Digest& subject);

// An OCI distribution client (docker-registry, Docker Hub, GHCR, Harbor, mirrors in front of them).
// Thread-safe; one instance should serve a whole process so connections and tokens are reused.
//
// Operations that take a Reference use its registry and repository (and tag/digest where it says
// so). Errors name the host, repository, digest or tag and the HTTP status:
//   kNotFound (manifest/blob unknown), kUnauthenticated / kPermissionDenied (auth),
//   kUnavailable (network or server errors after the retry budget), kDataLoss (content does not
//   match its digest, or a short body), kFailedPrecondition (server ignores Range; TLS setup),
//   kOutOfRange (range beyond the blob), kInvalidArgument (bad input).
class RegistryClient {
 public:
  static absl::StatusOr<std::unique_ptr<RegistryClient>> Create(const RegistryClientOptions& options);
  ~RegistryClient();

  // Tag or digest -> descriptor (media type, digest, size) of the manifest or index it names.
  absl::StatusOr<oci::Descriptor> Resolve(const Reference& ref);
  // Fetches the manifest or index ref names (by digest if it has one, else by tag), verified.
  absl::StatusOr<FetchedManifest> FetchManifest(const Reference& ref);
  absl::StatusOr<FetchedManifest> FetchManifest(const Reference& repo, const Digest& digest);
  // Resolves ref; when it is an index, picks the manifest for platform. Returns the image
  // manifest's descriptor.
  absl::StatusOr<oci::Descriptor> ResolvePlatformManifest(const Reference& ref,
                                                          const oci::Platform& platform);

  // Streams a whole blob to sink, verified against digest (and size when >= 0). Interrupted
  // transfers resume with a Range request.
  absl::Status FetchBlob(const Reference& repo, const Digest& digest, const BlobSink& sink,
                         int64_t size = -1);
  absl::StatusOr<std::string> FetchBlobBytes(const Reference& repo, const Digest& digest, int64_t size = -1);

  // Exactly `length` bytes at `offset`. Not digest-verified (a range cannot be); callers verify
  // chunks themselves.
  absl::StatusOr<std::string> ReadBlobRange(const Reference& repo, const Digest& digest, uint64_t offset,
                                            uint64_t length);
  // Many ranges fetched concurrently; all succeed or the first error is returned.
  absl::StatusOr<std::vector<std::string>> ReadBlobRanges(const Reference& repo, const Digest& digest,
                                                          std::span<const ByteRange> ranges);
  // A reader bound to one blob for repeated ranged reads (the lazy-loading hot path). size < 0
  // asks the registry (HEAD) for it.
  absl::StatusOr<std::unique_ptr<BlobRangeReader>> OpenBlob(const Reference& repo, const Digest& digest,
                                                            int64_t size = -1);

  // Size of the blob if the registry has it, kNotFound otherwise.
  absl::StatusOr<int64_t> StatBlob(const Reference& repo, const Digest& digest);
  absl::StatusOr<bool> BlobExists(const Reference& repo, const Digest& digest);

  // Uploads a blob unless the registry already has it; digest is checked locally first.
  absl::StatusOr<PushOutcome> PushBlob(const Reference& repo, const Digest& digest, std::string_view bytes,
                                       const PushBlobOptions& options = {});
  absl::StatusOr<PushOutcome> PushBlobFile(const Reference& repo, const Digest& digest,
                                           const std::string& path, const PushBlobOptions& options = {});
  // PUTs a manifest or index under ref's tag (or its digest if it has no tag). Returns its digest.
  absl::StatusOr<Digest> PushManifest(const Reference& ref, std::string_view bytes,
                                      std::string_view media_type);

  // The manifests in repo whose subject is `subject`: the referrers API, or where the registry has
  // none (404 on the endpoint), the index under the referrers tag. None at all: an empty list.
  // registry/referrers.cc.
  absl::StatusOr<ReferrersList> ListReferrers(const Reference& repo, const Digest& subject);
  // Pushes a manifest that has a subject (by digest) and makes it findable by ListReferrers: on a
  // registry without the referrers API, by adding it to the referrers tag's index.
  absl::StatusOr<Digest> PushReferrer(const Reference& repo, const Digest& subject,
                                      const oci::Descriptor& manifest, std::string_view bytes);

 private:
  explicit RegistryClient(std::shared_ptr<ClientCore> core);
  std::shared_ptr<ClientCore> core_;
};

// The manifest for platform in an index's manifests (first match, in index order).
absl::StatusOr<oci::Descriptor> SelectPlatform(const std::vector<oci::Descriptor>& manifests,
                                               const oci::Platform& platform, std::string_view context);

}  // namespace tide::registry

#endif  // TIDE_REGISTRY_REGISTRY_CLIENT_H_
