#include "test/e2e/pull/pull_checks.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "containerd_client/containerd_client.h"
#include "oci/image_config.h"
#include "oci/index.h"
#include "oci/media_types.h"
#include "oci/oci_layout.h"
#include "pull/lazy_puller.h"
#include "registry/reference.h"
#include "registry/registry_client.h"
#include "test/e2e/pull/cri_client.h"
#include "test/support/rootfs_listing.h"
#include "test/support/temp_dir.h"

namespace tide::testing {
namespace {

std::unique_ptr<registry::RegistryClient> Registry() {
  registry::RegistryClientOptions options;
  options.plain_http = true;
  auto client = registry::RegistryClient::Create(options);
  REQUIRE(client.ok());
  return std::move(*client);
}

std::unique_ptr<containerd_client::ContainerdClient> Containerd(PullEnv& env, const std::string& ns) {
  auto client = containerd_client::ContainerdClient::Connect(env.containerd().address(), ns);
  REQUIRE(client.ok());
  return std::move(*client);
}

registry::Reference ParseRef(const std::string& ref) {
  auto parsed = registry::Reference::Parse(ref);
  REQUIRE(parsed.ok());
  return *parsed;
}

}  // namespace

std::vector<std::string> SplitLines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

RegistryImage FetchRegistryImage(PullEnv&, const std::string& ref) {
  auto registry = Registry();
  registry::Reference parsed = ParseRef(ref);
  auto fetched = registry->FetchManifest(parsed);
  REQUIRE(fetched.ok());
  RegistryImage image;
  if (oci::IsIndex(fetched->media_type)) {
    image.index_digest = fetched->digest;
    auto index = oci::Index::Parse(fetched->bytes);
    REQUIRE(index.ok());
    auto chosen = registry::SelectPlatform(index->manifests, oci::Platform::Host(), ref);
    REQUIRE(chosen.ok());
    fetched = registry->FetchManifest(parsed, chosen->digest);
    REQUIRE(fetched.ok());
  }
  image.manifest_digest = fetched->digest;
  auto manifest = oci::Manifest::Parse(fetched->bytes);
  REQUIRE(manifest.ok());
  image.manifest = *manifest;
  auto config_bytes = registry->FetchBlobBytes(parsed, manifest->config.digest);
  REQUIRE(config_bytes.ok());
  auto config = oci::ImageConfig::Parse(*config_bytes);
  REQUIRE(config.ok());
  auto diff_ids = config->DiffIds();
  REQUIRE(diff_ids.ok());
  image.diff_ids = *diff_ids;
  image.chain_ids = pull::ChainIds(image.diff_ids);
  return image;
}

int64_t LayerBytes(PullEnv& env, const std::string& ref) {
  int64_t total = 0;
  for (const auto& layer : FetchRegistryImage(env, ref).manifest.layers) total += layer.size;
  return total;
}

void CheckImageContent(PullEnv& env, const std::string& ref, const std::string& snapshotter,
                       const std::string& ns) {
  RegistryImage image = FetchRegistryImage(env, ref);
  auto containerd = Containerd(env, ns);
  auto record = containerd->GetImage(ref);
  REQUIRE(record.ok());
  CHECK(record->target().digest() == image.target_digest().str());
  if (image.index_digest) {
    auto index = containerd->ContentInfo(image.index_digest->str());
    REQUIRE(index.ok());
    CHECK(index->labels().at("containerd.io/gc.ref.content.m.0") == image.manifest_digest.str());
  }
  CHECK(record->target().size() > 0);
  CHECK_FALSE(record->target().media_type().empty());

  auto manifest = containerd->ContentInfo(image.manifest_digest.str());
  REQUIRE(manifest.ok());
  CHECK(manifest->labels().at("containerd.io/gc.ref.content.config") == image.manifest.config.digest.str());
  auto config = containerd->ContentInfo(image.manifest.config.digest.str());
  REQUIRE(config.ok());
  CHECK(config->labels().at("containerd.io/gc.ref.snapshot." + snapshotter) == image.chain_ids.back().str());
  auto top = containerd->StatSnapshot(snapshotter, image.chain_ids.back().str());
  INFO(top.status().ToString());
  CHECK(top.ok());
}

void CheckRemoteSnapshots(PullEnv& env, const RegistryImage& image, const std::string& ns) {
  auto client = Containerd(env, ns);
  for (size_t i = 0; i < image.chain_ids.size(); ++i) {
    auto snapshot = client->StatSnapshot("tide", image.chain_ids[i].str());
    REQUIRE(snapshot.ok());
    CHECK(snapshot->labels().contains("containerd.io/snapshot/remote"));
  }
}

int CountUncompressedLabels(PullEnv& env, const std::string& ref, const std::string& ns) {
  RegistryImage image = FetchRegistryImage(env, ref);
  auto containerd = Containerd(env, ns);
  int labelled = 0;
  for (size_t i = 0; i < image.manifest.layers.size(); ++i) {
    auto info = containerd->ContentInfo(image.manifest.layers[i].digest.str());
    if (!info.ok()) continue;
    auto it = info->labels().find("containerd.io/uncompressed");
    if (it != info->labels().end()) {
      CHECK(it->second == image.diff_ids[i].str());
      ++labelled;
    }
  }
  return labelled;
}

void CheckUncompressedLabels(PullEnv& env, const std::string& ref, int expected_layers) {
  CHECK(CountUncompressedLabels(env, ref) == expected_layers);
}

void CheckRemovedByGc(PullEnv& env, const std::string& ref, const std::string& ns) {
  RegistryImage image = FetchRegistryImage(env, ref);
  auto removed = env.Ctr({"-n", ns, "images", "rm", "--sync", ref});
  INFO(removed.output);
  REQUIRE(removed.exit_code == 0);
  auto containerd = Containerd(env, ns);
  CHECK(absl::IsNotFound(containerd->ContentInfo(image.target_digest().str()).status()));
  CHECK(absl::IsNotFound(containerd->ContentInfo(image.manifest_digest.str()).status()));
  CHECK(absl::IsNotFound(containerd->ContentInfo(image.manifest.config.digest.str()).status()));
  for (const auto& layer : image.manifest.layers) {
    CHECK(absl::IsNotFound(containerd->ContentInfo(layer.digest.str()).status()));
  }
  CHECK(env.Ctr({"-n", ns, "snapshots", "--snapshotter", "tide", "ls"}).output.find("sha256:") ==
        std::string::npos);
  // The backend removals run in containerd's GC pass; give them a moment.
  std::filesystem::path snapshots = env.tide_root() / "snapshots";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  auto leftovers = [&] {
    size_t n = 0;
    if (std::filesystem::exists(snapshots)) {
      for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(snapshots)) ++n;
    }
    return n;
  };
  while (leftovers() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(leftovers() == 0);
  std::vector<std::string> mounts;
  for (const std::string& line : env.MountsUnderEnv()) {
    if (line.find(env.tide_root().string()) != std::string::npos) mounts.push_back(line);
  }
  CHECK(mounts.empty());
}

void PushMixedManifest(PullEnv&, const std::string& tide_ref, const std::string& gzip_ref,
                       const std::string& dest, const std::vector<bool>& use_gzip) {
  auto registry = Registry();
  auto tide = registry->FetchManifest(ParseRef(tide_ref));
  auto gzip = registry->FetchManifest(ParseRef(gzip_ref));
  REQUIRE(tide.ok());
  REQUIRE(gzip.ok());
  auto mixed = oci::Manifest::Parse(tide->bytes);
  auto plain = oci::Manifest::Parse(gzip->bytes);
  REQUIRE(mixed.ok());
  REQUIRE(plain.ok());
  REQUIRE(mixed->layers.size() == use_gzip.size());
  for (size_t i = 0; i < use_gzip.size(); ++i) {
    if (use_gzip[i]) mixed->layers[i] = plain->layers[i];
  }
  auto pushed = registry->PushManifest(ParseRef(dest), mixed->Serialize(), tide->media_type);
  INFO(pushed.status().ToString());
  REQUIRE(pushed.ok());
}

void PushIndex(PullEnv&, const std::string& manifest_ref, const std::string& dest) {
  auto registry = Registry();
  auto manifest = registry->FetchManifest(ParseRef(manifest_ref));
  REQUIRE(manifest.ok());
  oci::Descriptor entry;
  entry.media_type = manifest->media_type;
  entry.digest = manifest->digest;
  entry.size = static_cast<int64_t>(manifest->bytes.size());
  auto platform = oci::Platform::Parse("linux/amd64");
  REQUIRE(platform.ok());
  entry.platform = *platform;
  oci::Index index;
  index.media_type = std::string(oci::kOciIndex);
  index.manifests = {entry};
  auto pushed = registry->PushManifest(ParseRef(dest), index.Serialize(), oci::kOciIndex);
  INFO(pushed.status().ToString());
  REQUIRE(pushed.ok());
}

std::string LayoutFileSha(const std::filesystem::path& layout) {
  for (const auto& blob : std::filesystem::directory_iterator(layout / "blobs" / "sha256")) {
    auto hashed = RunCommand({"sh", "-c",
                              "tar -xzOf '" + blob.path().string() +
                                  "' data/random.bin 2>/dev/null | sha256sum | cut -d' ' -f1; "
                                  "tar -tzf '" +
                                  blob.path().string() + "' data/random.bin >/dev/null 2>&1"});
    if (hashed.exit_code == 0) return hashed.output.substr(0, 64);
  }
  FAIL("no layer of " << layout << " holds data/random.bin");
  return "";
}

std::string Listing(PullEnv& env, const std::string& snapshotter, const std::string& ref,
                    const std::string& id) {
  auto run =
      env.Ctr({"run", "--rm", "--snapshotter", snapshotter, ref, id, "/bin/sh", "-c", kBusyboxRootfsListing});
  INFO(run.output.substr(0, 4000));
  REQUIRE(run.exit_code == 0);
  return WithoutRuntimeMounts(run.output);
}

std::string WithImpliedDirMtime(const std::string& listing, const std::string& prefix) {
  std::string out;
  for (const std::string& line : SplitLines(listing)) {
    std::vector<std::string> fields = absl::StrSplit(line, '|');
    if (line.starts_with(prefix) && fields.size() == 8 && fields[1] == "directory")
      fields[6] = std::string(1, '*');
    absl::StrAppend(&out, absl::StrJoin(fields, "|"), "\n");
  }
  return out;
}

std::unique_ptr<PullEnv> EnvWithConfig(const std::string& tide_config) {
  PullEnvOptions options;
  options.tide_config = tide_config;
  return std::make_unique<PullEnv>(options);
}

int CountOf(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

bool WaitForLog(PullEnv& env, const std::string& text, int count) {
  for (int i = 0; i < 300; ++i) {
    if (CountOf(ReadFile(env.tide_log_path()), text) >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::filesystem::path StoredBlob(PullEnv& env, const Digest& digest) {
  const std::string hex = digest.str().substr(7);
  return env.registry().dir() / "data/docker/registry/v2/blobs/sha256" / hex.substr(0, 2) / hex / "data";
}

void CheckLazyLikeOrdinary(PullEnv& env, const std::string& ref, const std::string& format,
                           const std::string& id_prefix, const std::vector<std::string>& not_image_files) {
  // tidectl inspect says which path each layer takes, from the verified TOC or side index.
  auto inspect = RunCommand({TidectlBinary(), "inspect", "--plain-http", "docker://" + ref});
  INFO(inspect.output);
  REQUIRE(inspect.exit_code == 0);
  size_t lazy_layers = 0;
  for (const std::string& line : SplitLines(inspect.output))
    lazy_layers += absl::StrContains(line, "path: " + format);
  CHECK(lazy_layers == 3);
  const int64_t image_bytes = LayerBytes(env, ref);
  const int64_t before = env.RegistryBlobBytes();

  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "(3 lazy, 0 applied, 0 present)"));
  // Each layer line names the layer's format.
  CHECK(absl::StrContains(pulled.output,
                          absl::StrCat(" ", format, " application/vnd.oci.image.layer.v1.tar+")));
  CheckImageContent(env, ref, "tide");

  auto run = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, id_prefix + "-run"});
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  CHECK(run.output == "hello from tide\n");
  // Indexes, busybox and hello.txt; not the 3 MB of /data/random.bin.
  const int64_t fetched = env.RegistryBlobBytes() - before;
  INFO("registry served " << fetched << " blob bytes of " << image_bytes);
  CHECK(fetched < image_bytes / 2);

  std::string lazy = Listing(env, "tide", ref, id_prefix + "-list-tide");
  // The same image, pulled and unpacked by containerd itself on overlayfs.
  auto ordinary = env.Ctr({"images", "pull", "--plain-http", "--snapshotter", "overlayfs", ref});
  INFO(ordinary.output);
  REQUIRE(ordinary.exit_code == 0);
  std::string unpacked = Listing(env, "overlayfs", ref, id_prefix + "-list-overlay");
  // The third layer holds data/.wh.removed.txt but no data/ entry. containerd creates such an implied
  // directory at unpack time (its mtime is then), tide serves it with mtime 0: neither is the image's.
  lazy = WithImpliedDirMtime(lazy, "/data|");
  unpacked = WithImpliedDirMtime(unpacked, "/data|");
  std::string image_files;
  for (const std::string& line : SplitLines(unpacked)) {
    bool skip = false;
    for (const std::string& name : not_image_files) skip = skip || absl::StrContains(line, name);
    if (!skip) absl::StrAppend(&image_files, line, "\n");
  }
  CHECK(absl::StrContains(lazy, "/data/random.bin|regular file|644|"));
  CHECK_FALSE(absl::StrContains(lazy, "/data/removed.txt"));  // the third layer's whiteout
  CHECK(lazy == image_files);
}

void CheckTamperedLayerGivesEio(PullEnv& env, const std::string& ref, size_t layer, int denominator,
                                const std::string& id_prefix) {
  RegistryImage image = FetchRegistryImage(env, ref);
  REQUIRE(layer < image.manifest.layers.size());
  // After the registry checked the digest at push.
  const std::filesystem::path stored = StoredBlob(env, image.manifest.layers[layer].digest);
  REQUIRE(std::filesystem::exists(stored));
  const auto size = std::filesystem::file_size(stored);
  {
    std::fstream f(stored, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / static_cast<uint64_t>(denominator)));
    f.write("TAMPERED-BYTES-TAMPERED-BYTES", 29);
  }
  auto pulled = env.Pull(ref);
  INFO(pulled.output);
  REQUIRE(pulled.exit_code == 0);
  CHECK(absl::StrContains(pulled.output, "(3 lazy, 0 applied, 0 present)"));
  auto ok = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, id_prefix + "-ok"});
  CHECK(ok.output == "hello from tide\n");
  auto bad = env.Ctr({"run", "--rm", "--snapshotter", "tide", ref, id_prefix + "-bad", "/bin/sh", "-c",
                      "/bin/busybox sha256sum /data/random.bin; echo rc=$?"});
  INFO(bad.output);
  CHECK(absl::StrContains(bad.output, "rc=1"));
  CHECK(absl::StrContains(bad.output, "Input/output error"));
}

void CheckCriPullIsLazy(PullEnv& env, const std::string& ref) {
  RegistryImage image = FetchRegistryImage(env, ref);
  const int64_t before = env.RegistryBlobBytes();
  const std::string manifest = image.manifest_digest.str();
  const int manifest_gets_before = env.RegistryGets("manifests")[manifest];
  auto cri = CriImageClient::Connect(env.containerd().address());
  REQUIRE(cri.ok());
  REQUIRE((*cri)->PullImage(ref).ok());
  // containerd's GET of the manifest, and one by tide for what the cri labels of all the image's
  // layers leave out (annotations, diff_ids): not one per layer.
  const int manifest_gets = env.RegistryGets("manifests")[manifest] - manifest_gets_before;
  INFO("GETs of manifest " << manifest << ": " << manifest_gets);
  CHECK(manifest_gets <= 2);
  CHECK(env.RegistryBlobBytes() - before < LayerBytes(env, ref) / 2);
  CheckRemoteSnapshots(env, image, "k8s.io");
}

std::string PushGzipIndexed(PullEnv& env, const std::string& tag, const std::vector<std::string>& extra) {
  env.PushPlain(tag);
  std::string ref = env.Ref(tag);
  const Digest before = FetchRegistryImage(env, ref).manifest_digest;
  std::vector<std::string> argv = {TidectlBinary(), "index", "--plain-http", "--spacing", "256KiB"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("docker://" + ref);
  auto indexed = RunCommand(argv);
  INFO(indexed.output);
  REQUIRE(indexed.exit_code == 0);
  // docker-registry 2.8 has no referrers API: the artifact is listed under the referrers tag.
  CHECK(absl::StrContains(indexed.output, "referrers tag sha256-" + std::string(before.hex())));
  // The image itself is untouched.
  CHECK(FetchRegistryImage(env, ref).manifest_digest == before);
  return ref;
}

std::string PushEstargz(PullEnv& env, const std::string& esgz_tag, const std::string& format_flag) {
  env.PushPlain("busybox-src:v1");
  const std::string src = env.Ref("busybox-src:v1");
  std::string dst = env.Ref(esgz_tag);
  auto fetched = env.Ctr({"content", "fetch", "--plain-http", src});
  INFO(fetched.output);
  REQUIRE(fetched.exit_code == 0);
  auto converted = RunCommand({"ctr-remote", "--address", env.containerd().address(), "images", "convert",
                               format_flag, "--oci", src, dst});
  INFO(converted.output);
  REQUIRE(converted.exit_code == 0);
  auto pushed = env.Ctr({"images", "push", "--plain-http", dst});
  INFO(pushed.output);
  REQUIRE(pushed.exit_code == 0);
  REQUIRE(env.Ctr({"images", "rm", "--sync", src, dst}).exit_code == 0);
  return dst;
}

std::filesystem::path RewriteLayoutLayers(PullEnv& env, const std::string& name,
                                          const LayerRewrite& rewrite) {
  std::filesystem::path dir = env.dir() / name;
  std::filesystem::copy(env.Layout(), dir, std::filesystem::copy_options::recursive);
  auto layout = oci::OciLayout::Open(dir);
  REQUIRE(layout.ok());
  auto root = layout->Resolve("v1");
  REQUIRE(root.ok());
  auto manifest = oci::Manifest::Parse(*layout->ReadBlob(root->digest));
  REQUIRE(manifest.ok());
  auto config = layout->ReadBlob(manifest->config.digest);
  REQUIRE(config.ok());
  std::string config_json = *config;
  for (oci::Descriptor& layer : manifest->layers) {
    const std::filesystem::path out = env.dir() / (name + ".blob");
    rewrite(layout->BlobPath(layer.digest), out, config_json);
    auto written = layout->WriteBlob(ReadFile(out));
    REQUIRE(written.ok());
    layer.digest = *written;
    layer.size = static_cast<int64_t>(std::filesystem::file_size(out));
  }
  if (config_json != *config) {
    manifest->config.digest = *layout->WriteBlob(config_json);
    manifest->config.size = static_cast<int64_t>(config_json.size());
  }
  const std::string bytes = manifest->Serialize();
  oci::Descriptor desc = *root;
  desc.digest = *layout->WriteBlob(bytes);
  desc.size = static_cast<int64_t>(bytes.size());
  desc.annotations.clear();
  REQUIRE(layout->SetTag("v1", desc).ok());
  return dir;
}

std::string PushContainersStorageZstdChunked(PullEnv& env, const std::string& tag,
                                             const std::string& source) {
  std::string src = source;
  if (src.empty()) {
    env.PushPlain("busybox-src:v1");
    src = env.Ref("busybox-src:v1");
  }
  std::string dst = env.Ref(tag);
  // Through an OCI layout: a copy from registry to registry would reuse the gzip blobs.
  const std::string layout =
      "oci:" + (env.dir() / ("skopeo-" + std::to_string(std::hash<std::string>{}(tag)))).string() + ":v1";
  auto converted = RunCommand({"skopeo", "copy", "--src-tls-verify=false", "--dest-compress-format",
                               "zstd:chunked", "docker://" + src, layout});
  INFO(converted.output);
  REQUIRE(converted.exit_code == 0);
  auto copied = RunCommand({"skopeo", "copy", "--dest-tls-verify=false", layout, "docker://" + dst});
  INFO(copied.output);
  REQUIRE(copied.exit_code == 0);
  for (const auto& layer : FetchRegistryImage(env, dst).manifest.layers)
    REQUIRE(layer.annotations.count("io.containers.zstd-chunked.manifest-checksum") == 1);
  return dst;
}

}  // namespace tide::testing
