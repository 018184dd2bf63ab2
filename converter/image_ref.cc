#include "converter/image_ref.h"

#include "absl/strings/str_cat.h"
#include "common/string_view_compat.h"

namespace tide::converter {

absl::StatusOr<ImageRef> ImageRef::Parse(std::string_view text) {
  constexpr std::string_view kOci = "oci:";
  constexpr std::string_view kDocker = "docker://";
  ImageRef ref;
  if (text.starts_with(kDocker)) {
    ref.transport = Transport::kRegistry;
    ref.reference = std::string(text.substr(kDocker.size()));
    if (ref.reference.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("image \"", Sv(text), "\": empty registry reference"));
    }
    return ref;
  }
  if (text.starts_with(kOci)) {
    std::string_view rest = text.substr(kOci.size());
    // As skopeo reads it: the directory ends at the first ':' and the rest is the reference, which
    // may hold colons itself (umoci writes ref names such as "sdweb:latest").
    size_t colon = rest.find(':');
    if (colon != std::string_view::npos) {
      ref.layout_dir = std::string(rest.substr(0, colon));
      ref.tag = std::string(rest.substr(colon + 1));
    } else {
      ref.layout_dir = std::string(rest);
    }
    if (ref.layout_dir.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("image \"", Sv(text), "\": empty OCI layout directory"));
    }
    return ref;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "image \"", Sv(text), "\": unknown transport (want oci:DIR[:TAG] or docker://HOST/REPO[:TAG])"));
}

std::string ImageRef::ToString() const {
  if (transport == Transport::kRegistry) return absl::StrCat("docker://", reference);
  return tag.empty() ? absl::StrCat("oci:", layout_dir) : absl::StrCat("oci:", layout_dir, ":", tag);
}

}  // namespace tide::converter
