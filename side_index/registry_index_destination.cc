#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "side_index/side_index_destination.h"

namespace tide::side_index {
namespace {

class RegistryDestination final : public SideIndexDestination {
 public:
  RegistryDestination(std::shared_ptr<registry::RegistryClient> client, registry::Reference repo)
      : client_(std::move(client)), repo_(std::move(repo)) {}

  std::string Describe() const override {
    return absl::StrCat("docker://", repo_.registry(), "/", repo_.repository());
  }

  absl::Status CheckHoldsSubject(const oci::Descriptor& subject) override {
    absl::StatusOr<registry::FetchedManifest> held = client_->FetchManifest(repo_, subject.digest);
    if (held.ok()) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        Describe(), " does not hold the image manifest ", subject.digest.str(), " (", held.status().message(),
        "): push the image there unchanged first, e.g. with skopeo copy"));
  }

  absl::Status PutBlob(const Digest& digest, std::string_view bytes) override {
    return client_->PushBlob(repo_, digest, bytes).status();
  }

  absl::StatusOr<std::string> PutReferrer(const oci::Descriptor& subject, const oci::Descriptor& artifact,
                                          std::string_view bytes) override {
    TIDE_RETURN_IF_ERROR(client_->PushReferrer(repo_, subject.digest, artifact, bytes).status());
    TIDE_ASSIGN_OR_RETURN(registry::ReferrersList listed, client_->ListReferrers(repo_, subject.digest));
    return listed.from_fallback_tag ? absl::StrCat("referrers tag ", registry::ReferrersTag(subject.digest))
                                    : std::string("referrers API");
  }

 private:
  std::shared_ptr<registry::RegistryClient> client_;
  registry::Reference repo_;
};

}  // namespace

std::unique_ptr<SideIndexDestination> RegistryIndexDestination(
    std::shared_ptr<registry::RegistryClient> client, registry::Reference repo) {
  return std::make_unique<RegistryDestination>(std::move(client), std::move(repo));
}

}  // namespace tide::side_index
