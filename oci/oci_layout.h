#ifndef TIDE_OCI_OCI_LAYOUT_H_
#define TIDE_OCI_OCI_LAYOUT_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/digest.h"
#include "common/unique_fd.h"
#include "oci/blob_writer.h"
#include "oci/descriptor.h"
#include "oci/index.h"

namespace tide::oci {

// An OCI image layout directory: `oci-layout`, `index.json`, `blobs/sha256/<hex>`.
// Blobs are written atomically (temp file + rename) and index.json is replaced atomically, so a
// reader never sees a partial blob or a tag pointing at missing content.
class OciLayout {
 public:
  // The directory must already hold an OCI layout.
  static absl::StatusOr<OciLayout> Open(const std::filesystem::path& dir);
  // Creates the directory, `oci-layout` and an empty index.json when absent.
  static absl::StatusOr<OciLayout> OpenOrCreate(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path BlobPath(const Digest& digest) const;
  bool HasBlob(const Digest& digest) const;

  // Reads a whole blob and checks its digest (and size, when given). For small blobs: manifests,
  // configs, indexes. Layers are streamed through OpenBlob().
  absl::StatusOr<std::string> ReadBlob(const Digest& digest,
                                       std::optional<int64_t> size = std::nullopt) const;
  absl::StatusOr<UniqueFd> OpenBlob(const Digest& digest) const;
  absl::StatusOr<Digest> WriteBlob(std::string_view data);
  absl::StatusOr<BlobWriter> NewBlobWriter() const { return BlobWriter::Create(dir_); }

  absl::StatusOr<Index> ReadIndex() const;
  absl::Status WriteIndex(const Index& index);
  // The descriptor tagged `tag` in index.json. An empty tag means the only image of index.json;
  // referrers (entries with an artifactType, see AddReferrer) are not images.
  absl::StatusOr<Descriptor> Resolve(std::string_view tag) const;
  // Points `tag` at desc, replacing entries with the same tag, as one atomic index.json update
  // (serialized against other tide writers by a lock on the layout directory).
  absl::Status SetTag(std::string_view tag, Descriptor desc);
  std::vector<std::string> Tags() const;
  // Lists the artifact manifest `artifact` (already a blob here) in index.json untagged, as a
  // referrer of `subject`, where OCI 1.1 tools look for one. Earlier referrers of `subject` with the
  // same artifactType are dropped from index.json (their blobs stay), so adding is idempotent.
  absl::Status AddReferrer(const Descriptor& artifact, const Digest& subject);
  // The artifact manifests index.json lists as referrers of `subject` with this artifactType.
  absl::StatusOr<std::vector<Descriptor>> Referrers(const Digest& subject,
                                                    std::string_view artifact_type) const;

 private:
  explicit OciLayout(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

}  // namespace tide::oci

#endif  // TIDE_OCI_OCI_LAYOUT_H_
