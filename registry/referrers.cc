// RegistryClient's OCI 1.1 referrers: the API where the registry has it, the referrers tag schema
// where it does not.
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "oci/index.h"
#include "oci/media_types.h"
#include "registry/client_core.h"
#include "registry/registry_client.h"

namespace tide::registry {
namespace {

constexpr const char* kIndexAccept = "Accept: application/vnd.oci.image.index.v1+json";

// What the referrers endpoint said: an index, or nullopt when the registry has no such endpoint.
absl::StatusOr<std::optional<oci::Index>> QueryReferrersApi(ClientCore& core, const RegistryHost& host,
                                                            const Reference& repo, const Digest& subject,
                                                            bool has_fallback) {
  RegistryCall call;
  call.has_fallback = has_fallback;
  call.url = ClientCore::RepoUrl(host, repo.repository(), absl::StrCat("/referrers/", subject.str()));
  call.headers = {kIndexAccept};
  call.scopes = {RepositoryScope(repo.repository(), false)};
  call.what = absl::StrCat("repository ", repo.repository(), " referrers of ", subject.str());
  TIDE_ASSIGN_OR_RETURN(HttpResponse resp, core.Execute(host, call));
  // A registry with the API answers 200 even when nothing refers to the subject.
  if (resp.status == 404 || resp.status == 405 || resp.status == 400) return std::optional<oci::Index>();
  if (resp.status != 200) return ClientCore::HttpError(host, call, resp);
  const size_t limit = core.options().max_manifest_bytes;
  if (resp.body.size() > limit || resp.body_truncated_by_cap) {
    return absl::ResourceExhaustedError(
        absl::StrCat(host.host, " ", call.what, ": list larger than the ", limit, "-byte limit"));
  }
  TIDE_ASSIGN_OR_RETURN(oci::Index index, oci::Index::Parse(resp.body, call.what));
  return std::optional<oci::Index>(std::move(index));
}

}  // namespace

std::string ReferrersTag(const Digest& subject) {
  return absl::StrCat("sha256-", std::string(subject.hex())).substr(0, 128);
}

absl::StatusOr<ReferrersList> RegistryClient::ListReferrers(const Reference& repo, const Digest& subject) {
  ClientCore& core = *core_;
  TIDE_ASSIGN_OR_RETURN(std::optional<oci::Index> api,
                        core.OnHosts<std::optional<oci::Index>>(
                            repo.registry(), kCapPull, [&](const RegistryHost& host, bool has_fallback) {
                              return QueryReferrersApi(core, host, repo, subject, has_fallback);
                            }));
  ReferrersList out;
  if (api) {
    out.manifests = std::move(api->manifests);
    return out;
  }
  out.from_fallback_tag = true;
  absl::StatusOr<FetchedManifest> tagged = FetchManifest(repo.WithTag(ReferrersTag(subject)));
  if (absl::IsNotFound(tagged.status())) return out;
  if (!tagged.ok()) return tagged.status();
  const std::string context =
      absl::StrCat("referrers tag ", ReferrersTag(subject), " of ", repo.repository());
  TIDE_ASSIGN_OR_RETURN(oci::Index index, oci::Index::Parse(tagged->bytes, context));
  out.manifests = std::move(index.manifests);
  return out;
}

absl::StatusOr<Digest> RegistryClient::PushReferrer(const Reference& repo, const Digest& subject,
                                                    const oci::Descriptor& manifest, std::string_view bytes) {
  // By digest only: a tag in `repo` (the image's) must not move to the artifact.
  TIDE_ASSIGN_OR_RETURN(
      Digest pushed, PushManifest(repo.WithTag("").WithDigest(manifest.digest), bytes, manifest.media_type));
  TIDE_ASSIGN_OR_RETURN(ReferrersList now, ListReferrers(repo, subject));
  if (!now.from_fallback_tag) return pushed;
  // No referrers API: the client keeps the tag's index (read, add, write back; the schema has no
  // compare-and-swap, so two concurrent pushers may lose one entry, which a re-run restores).
  for (const oci::Descriptor& d : now.manifests)
    if (d.digest == pushed) return pushed;
  oci::Index index;
  index.media_type = std::string(oci::kOciIndex);
  index.manifests = std::move(now.manifests);
  index.manifests.push_back(manifest);
  TIDE_RETURN_IF_ERROR(
      PushManifest(repo.WithTag(ReferrersTag(subject)), index.Serialize(), oci::kOciIndex).status());
  return pushed;
}

}  // namespace tide::registry
