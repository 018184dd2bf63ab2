#ifndef TIDE_CONVERTER_OCI_LAYOUT_DESTINATION_H_
#define TIDE_CONVERTER_OCI_LAYOUT_DESTINATION_H_

#include <filesystem>
#include <memory>
#include <string>

#include "converter/image_destination.h"
#include "oci/oci_layout.h"

namespace tide::converter {

// Writes into an OCI layout; Publish() tags the root in index.json.
//
// Into an existing layout, blobs go in as they are converted and the tag last; nothing already
// stored is removed or rewritten, so a failed conversion leaves the layout as it was (plus blobs no
// tag references). A directory that does not exist yet, or is empty, is built as a hidden sibling
// (".<name>.tidectl-XXXXXX") that Publish() renames into place, so a failed or interrupted
// conversion leaves nothing there. A non-empty directory that is not a layout is refused.
class OciLayoutDestination final : public ImageDestination {
 public:
  static absl::StatusOr<std::unique_ptr<OciLayoutDestination>> Open(const std::string& dir,
                                                                    const std::string& tag);
  // Removes the staging directory of a conversion that was never published.
  ~OciLayoutDestination() override;

  std::string Describe() const override;
  absl::StatusOr<std::unique_ptr<LayerOutput>> NewLayer() override;
  absl::Status PutBlob(const oci::Descriptor& desc, std::string_view bytes) override;
  absl::Status PutManifest(const oci::Descriptor& desc, std::string_view bytes) override;
  absl::Status Publish(const oci::Descriptor& root, std::string_view bytes) override;

 private:
  OciLayoutDestination(oci::OciLayout layout, std::filesystem::path dir, std::string tag, bool staged,
                       bool replaces_empty_dir)
      : layout_(std::move(layout)),
        dir_(std::move(dir)),
        tag_(std::move(tag)),
        staged_(staged),
        replaces_empty_dir_(replaces_empty_dir) {}
  // Moves the finished staging directory to dir_.
  absl::Status MoveIntoPlace();

  oci::OciLayout layout_;      // dir_ itself, or the staging directory until published
  std::filesystem::path dir_;  // the destination the user named
  std::string tag_;
  bool staged_;              // layout_ is a staging directory not yet moved to dir_
  bool replaces_empty_dir_;  // dir_ existed as an empty directory
};

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_OCI_LAYOUT_DESTINATION_H_
