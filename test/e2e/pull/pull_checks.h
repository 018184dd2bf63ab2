#ifndef TIDE_TEST_E2E_PULL_PULL_CHECKS_H_
#define TIDE_TEST_E2E_PULL_PULL_CHECKS_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/digest.h"
#include "oci/manifest.h"
#include "test/e2e/pull/pull_env.h"

namespace tide::testing {

std::vector<std::string> SplitLines(const std::string& text);
// Occurrences of `needle` in `text` (log lines carrying a message).
int CountOf(const std::string& text, const std::string& needle);

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

// `ctr run` of a busybox image printing kBusyboxRootfsListing (runtime mounts left out).
std::string Listing(PullEnv& env, const std::string& snapshotter, const std::string& ref,
                    const std::string& id);
// The listing with the mtime of directory `prefix` ("/path|") masked.
std::string WithImpliedDirMtime(const std::string& listing, const std::string& prefix);
std::unique_ptr<PullEnv> EnvWithConfig(const std::string& tide_config);
// Waits up to 30 s for `count` lines of tide-snapshotter's log that contain `text`.
bool WaitForLog(PullEnv& env, const std::string& text, int count);
// The registry's stored copy of a blob.
std::filesystem::path StoredBlob(PullEnv& env, const Digest& digest);

// The env's busybox image at `ref`, whose 3 layers `tidectl inspect` names `format` (estargz,
// zstd:chunked, gzip+index): `tidectl pull` takes them lazily, `ctr run` reads less than half of the
// image, and the root listing equals containerd's own overlayfs unpack, except for `not_image_files`
// (tar entries that are not the image's files). Containers are named `id_prefix`-*.
void CheckLazyLikeOrdinary(PullEnv& env, const std::string& ref, const std::string& format,
                           const std::string& id_prefix,
                           const std::vector<std::string>& not_image_files = {});
// Overwrites bytes at 1/`denominator` of layer `layer`'s blob in the registry's storage, pulls `ref`
// and checks that reading /data/random.bin fails with EIO while the rest of the image runs.
void CheckTamperedLayerGivesEio(PullEnv& env, const std::string& ref, size_t layer, int denominator,
                                const std::string& id_prefix);

// Pulls `ref` through containerd's CRI plugin: every layer becomes a remote snapshot in k8s.io and
// less than half of the image crosses the link.
void CheckCriPullIsLazy(PullEnv& env, const std::string& ref);

// The env's busybox image (3 gzip layers; the second holds 3 MB of /data/random.bin, the third
// whites out a file of the second), pushed unchanged and given a side index by `tidectl index`
// (256 KiB spacing, plus `extra`); checks the manifest digest did not change. Returns its reference.
std::string PushGzipIndexed(PullEnv& env, const std::string& tag, const std::vector<std::string>& extra = {});

// The env's busybox image (3 gzip layers; the third whites out a file of the second), converted to
// eStargz by ctr-remote in the env's containerd and pushed as `esgz_tag`. containerd forgets both
// images afterwards, so what follows starts from the registry alone. Returns its reference.
// `format_flag`: --estargz, or --zstdchunked for stargz-snapshotter's zstd:chunked.
std::string PushEstargz(PullEnv& env, const std::string& esgz_tag,
                        const std::string& format_flag = "--estargz");

// Writes a layer's new blob to `out` from its old blob `blob`; may edit the image config's JSON.
using LayerRewrite = std::function<void(const std::filesystem::path& blob, const std::filesystem::path& out,
                                        std::string& config_json)>;
// A copy of the env's layout in env.dir()/`name` whose layers are rewritten by `rewrite`, one after
// another, and whose tag v1 names the new manifest (and config, if `rewrite` changed it).
std::filesystem::path RewriteLayoutLayers(PullEnv& env, const std::string& name, const LayerRewrite& rewrite);

// The env's busybox image copied by skopeo (containers/image and containers/storage's writer) to
// zstd:chunked as `tag`: every layer carries the io.containers.zstd-chunked.* annotations. Returns its
// reference.
// `source`, when given, is the image (a reference in the env's registry) to copy instead.
std::string PushContainersStorageZstdChunked(PullEnv& env, const std::string& tag,
                                             const std::string& source = "");

}  // namespace tide::testing

#endif  // TIDE_TEST_E2E_PULL_PULL_CHECKS_H_
