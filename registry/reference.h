#ifndef TIDE_REGISTRY_REFERENCE_H_
#define TIDE_REGISTRY_REFERENCE_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/digest.h"

namespace tide::registry {

// An image reference "host[:port]/repo[:tag][@digest]" with Docker's defaults: no host means
// docker.io, a single-component Docker Hub repository lives under "library/", and a reference with
// neither tag nor digest means ":latest".
class Reference {
 public:
  static absl::StatusOr<Reference> Parse(std::string_view text);

  const std::string& registry() const { return registry_; }      // "docker.io", "127.0.0.1:5000"
  const std::string& repository() const { return repository_; }  // "library/busybox"
  const std::string& tag() const { return tag_; }                // may be empty when a digest is set
  const std::optional<Digest>& digest() const { return digest_; }

  // What goes after /manifests/: the digest when known, the tag otherwise.
  std::string ObjectName() const { return digest_ ? digest_->str() : tag_; }
  // Canonical form: registry/repository[:tag][@digest].
  std::string String() const;

  Reference WithDigest(const Digest& digest) const;
  Reference WithTag(std::string tag) const;

  friend bool operator==(const Reference&, const Reference&) = default;

 private:
  std::string registry_;
  std::string repository_;
  std::string tag_;
  std::optional<Digest> digest_;
};

inline constexpr std::string_view kDockerHubRegistry = "docker.io";

// True for "localhost", an IPv4 literal in 127.0.0.0/8 and "[::1]", each with an optional ":port":
// hosts that containerd talks to over plain http by default. Names that merely look like loopback
// ("127.evil.example", "localhost.example.com") are not.
bool IsLocalhost(std::string_view host);

}  // namespace tide::registry

#endif  // TIDE_REGISTRY_REFERENCE_H_
