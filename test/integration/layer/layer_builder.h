#ifndef TIDE_TEST_INTEGRATION_LAYER_LAYER_BUILDER_H_
#define TIDE_TEST_INTEGRATION_LAYER_LAYER_BUILDER_H_

#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "format/layer_writer.h"
#include "layer/layer_mount.h"

namespace tide::layer::testing {

struct BuiltLayer {
  std::filesystem::path tar;   // made by GNU tar from the tree
  std::filesystem::path blob;  // the tide layer written from that tar
  format::LayerWriteResult result;
  IndexLocation index_location() const {
    return {result.index_offset, result.index_size, result.index_digest, result.blob_size};
  }
};

// Tars `tree` with GNU tar (posix format, xattrs, numeric owners) and converts the tar into a tide
// layer, both under `out_dir` named after `name`.
absl::StatusOr<BuiltLayer> BuildLayer(const std::filesystem::path& tree, const std::filesystem::path& out_dir,
                                      const std::string& name, format::LayerWriterOptions options = {});

// Like BuildLayer, but streams GNU tar's output straight into the writer (no tar file on disk: for
// layers with huge files). `tar` stays empty.
absl::StatusOr<BuiltLayer> BuildLayerStreaming(const std::filesystem::path& tree,
                                               const std::filesystem::path& out_dir, const std::string& name,
                                               format::LayerWriterOptions options = {});

// A copy of `layer` (blob `<out_dir>/<name>.tide`) whose index commits to `diff_id` instead of the
// tar's real sha256, with a valid index digest: what an image author who lies about the diff_id
// in the index itself publishes. Its chunks still verify; only the whole tar does not.
absl::StatusOr<BuiltLayer> WithIndexDiffId(const BuiltLayer& layer, const Sha256Bytes& diff_id,
                                           const std::filesystem::path& out_dir, const std::string& name);

// Extracts a tar with GNU tar, preserving owners, modes, xattrs and times.
absl::Status ExtractTar(const std::filesystem::path& tar, const std::filesystem::path& dir);

// Applies layer tars in order the way containerd's overlay snapshotter ends up presenting them:
// ".wh..wh..opq" clears the directory's lower contents, ".wh.NAME" deletes NAME, the rest is extracted.
absl::Status ApplyLayers(const std::vector<std::filesystem::path>& tars, const std::filesystem::path& dir);

// The test script next to this file.
std::filesystem::path TestScript(const std::string& name);

}  // namespace tide::layer::testing

#endif  // TIDE_TEST_INTEGRATION_LAYER_LAYER_BUILDER_H_
