#ifndef TIDE_TEST_E2E_PULL_PULL_CHECKS_H_
#define TIDE_TEST_E2E_PULL_PULL_CHECKS_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/digest.h"
#include "oci/manifest.h"
#include "test/e2e/pull/pull_env.h"

namespace tide::testing {

std::vector<std::string> SplitLines(const std::string& text);

// What the registry holds for ref (amd64 manifest, its config's DiffIDs and chainIDs).
struct RegistryImage {
  std::optional<Digest> index_digest;  // when the reference names an index
  Digest manifest_digest;
  oci::Manifest manifest;
  std::vector<Digest> diff_ids;
  std::vector<Digest> chain_ids;

  const Digest& target_digest() const { return index_digest ? *index_digest : manifest_digest; }
};
RegistryImage FetchRegistryImage(PullEnv& env, const std::string& ref);
int64_t LayerBytes(PullEnv& env, const std::string& ref);

// The image record points at the registry's manifest; manifest and config are in the content
// store with containerd's GC labels; the top chainID exists in `snapshotter` (what `ctr run`
// checks). Namespace defaults to ctr's.
void CheckImageContent(PullEnv& env, const std::string& ref, const std::string& snapshotter,
                       const std::string& ns = "default");
// Every layer of `image` is a remote (lazy) tide snapshot in namespace `ns`, found by its chainID.
void CheckRemoteSnapshots(PullEnv& env, const RegistryImage& image, const std::string& ns);
// Layers whose blob is in the content store labelled containerd.io/uncompressed=<DiffID>.
int CountUncompressedLabels(PullEnv& env, const std::string& ref, const std::string& ns = "default");
void CheckUncompressedLabels(PullEnv& env, const std::string& ref, int expected_layers);
// `ctr images rm --sync` then: no blob of the image, no tide snapshot, no snapshot directory and
// no mount left under the snapshotter's root.
void CheckRemovedByGc(PullEnv& env, const std::string& ref, const std::string& ns = "default");

// Pushes to dest a manifest made of tide_ref's config and layers, with layer i taken from
// gzip_ref where use_gzip[i].
void PushMixedManifest(PullEnv& env, const std::string& tide_ref, const std::string& gzip_ref,
                       const std::string& dest, const std::vector<bool>& use_gzip);

// sha256 (hex) of /data/random.bin as the busybox layout's layer holds it.
std::string LayoutFileSha(const std::filesystem::path& layout);

// Pushes to dest an OCI index whose only entry is manifest_ref's manifest, marked linux/amd64.
void PushIndex(PullEnv& env, const std::string& manifest_ref, const std::string& dest);

}  // namespace tide::testing

#endif  // TIDE_TEST_E2E_PULL_PULL_CHECKS_H_
