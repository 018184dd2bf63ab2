#include "tidectl/index_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "converter/image_endpoints.h"
#include "converter/image_ref.h"
#include "format/annotations.h"
#include "format/estargz/estargz_footer.h"
#include "format/gzip_index/gzip_index_builder.h"
#include "oci/image_config.h"
#include "oci/index.h"
#include "oci/manifest.h"
#include "oci/media_types.h"
#include "profile/startup_profile.h"
#include "side_index/side_index_artifact.h"
#include "side_index/side_index_destination.h"
#include "tidectl/size_flag.h"

namespace tide::tidectl {
namespace {

struct IndexFlags {
  std::string source;
  std::string destination;
  std::string profile;
  std::string spacing = "1MiB";
  converter::RegistryFlags registry;
};

struct ImageContext {
  converter::ImageSource& source;
  side_index::SideIndexDestination& destination;
  const profile::StartupProfile* profile = nullptr;
  uint64_t spacing = 0;
};

bool HasOwnIndex(const oci::Descriptor& layer) {
  return layer.annotations.count(std::string(format::kAnnotationIndexDigest)) != 0 ||
         layer.annotations.count(std::string(format::kEstargzTocDigestAnnotation)) != 0;
}

// The startup set the profile records for this layer (named by blob digest or diff_id).
std::vector<format::StartupFile> StartupFiles(const ImageContext& image, const oci::Descriptor& layer,
                                              const Digest& diff_id) {
  if (image.profile == nullptr) return {};
  int at = image.profile->FindLayer(layer.digest);
  if (at < 0 && !diff_id.empty()) at = image.profile->FindLayer(diff_id);
  return at < 0 ? std::vector<format::StartupFile>() : image.profile->StartupFilesOf(static_cast<size_t>(at));
}

absl::StatusOr<std::optional<side_index::LayerSideIndex>> IndexLayer(ImageContext& image,
                                                                     const oci::Descriptor& layer,
                                                                     const Digest& diff_id, size_t number) {
  absl::PrintF("  layer %d %s %d bytes: ", number, layer.digest.str(), layer.size);
  if (HasOwnIndex(layer)) {
    absl::PrintF("skipped (has its own index)\n");
    return std::optional<side_index::LayerSideIndex>();
  }
  if (!oci::IsLayer(layer.media_type) || oci::LayerCompression(layer.media_type) != oci::Compression::kGzip) {
    absl::PrintF("skipped (%s is not a gzip layer)\n", layer.media_type);
    return std::optional<side_index::LayerSideIndex>();
  }
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  format::GzipIndexOptions options;
  options.spacing.compressed_bytes = image.spacing;
  // Twice the spacing uncompressed: where data does not compress, a 32 KiB window per span stays
  // under 2% of the span (docs/format.md §12).
  options.spacing.min_uncompressed_bytes = 2 * image.spacing;
  options.spacing.uncompressed_bytes = std::max<uint64_t>(8 << 20, 4 * image.spacing);
  options.startup_files = StartupFiles(image, layer, diff_id);
  TIDE_ASSIGN_OR_RETURN(std::unique_ptr<format::ByteSource> blob, image.source.OpenLayer(layer));
  absl::StatusOr<format::GzipIndex> indexed = format::BuildGzipIndex(*blob, layer.digest, options);
  if (absl::IsUnimplemented(indexed.status())) {
    // A gzip the index cannot describe (several members): the artifact leaves the layer out, so
    // nodes pull it whole while the image's other layers stay lazy.
    absl::PrintF("skipped (%s; nodes pull it whole)\n", indexed.status().message());
    return std::optional<side_index::LayerSideIndex>();
  }
  if (!indexed.ok()) return indexed.status();
  format::GzipIndex& built = *indexed;
  if (!diff_id.empty() && built.diff_id != diff_id) {
    return absl::DataLossError(absl::StrCat("layer ", layer.digest.str(), " decompresses to ",
                                            built.diff_id.str(), ", but the image config says ",
                                            diff_id.str()));
  }
  side_index::LayerSideIndex out;
  out.layer = layer.digest;
  out.blob.digest = Digest::Of(built.frame);
  out.blob.size = static_cast<int64_t>(built.frame.size());
  TIDE_RETURN_IF_ERROR(image.destination.PutBlob(out.blob.digest, built.frame));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  absl::PrintF(
      "%d entries, %d spans, %d startup, index %d bytes (%.2f%% of the layer), %.1f s\n", built.entries,
      built.chunks, built.startup_chunks, built.frame.size(),
      100.0 * static_cast<double>(built.frame.size()) / static_cast<double>(std::max<int64_t>(1, layer.size)),
      seconds);
  return std::optional<side_index::LayerSideIndex>(out);
}

absl::Status IndexManifest(ImageContext& image, const oci::Descriptor& desc, const std::string& bytes) {
  TIDE_ASSIGN_OR_RETURN(oci::Manifest m,
                        oci::Manifest::Parse(bytes, absl::StrCat("manifest ", desc.digest.str())));
  absl::PrintF("manifest %s\n", desc.digest.str());
  oci::Descriptor subject = desc;
  subject.size = static_cast<int64_t>(bytes.size());
  TIDE_RETURN_IF_ERROR(image.destination.CheckHoldsSubject(subject));
  TIDE_ASSIGN_OR_RETURN(std::string config_bytes, image.source.FetchBlob(m.config));
  TIDE_ASSIGN_OR_RETURN(oci::ImageConfig config, oci::ImageConfig::Parse(config_bytes));
  TIDE_ASSIGN_OR_RETURN(std::vector<Digest> diff_ids, config.DiffIds());
  std::vector<side_index::LayerSideIndex> indexes;
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const Digest diff_id = i < diff_ids.size() ? diff_ids[i] : Digest();
    TIDE_ASSIGN_OR_RETURN(auto one, IndexLayer(image, m.layers[i], diff_id, i + 1));
    if (one) indexes.push_back(*one);
  }
  if (indexes.empty()) {
    absl::PrintF("  no gzip layers to index\n");
    return absl::OkStatus();
  }
  const std::string empty(side_index::EmptyConfig());
  TIDE_RETURN_IF_ERROR(image.destination.PutBlob(Digest::Of(empty), empty));
  const std::string artifact = side_index::ArtifactManifest(subject, indexes);
  oci::Descriptor artifact_desc;
  artifact_desc.media_type = std::string(oci::kOciManifest);
  artifact_desc.artifact_type = side_index::kArtifactType;
  artifact_desc.digest = Digest::Of(artifact);
  artifact_desc.size = static_cast<int64_t>(artifact.size());
  TIDE_ASSIGN_OR_RETURN(std::string found_by,
                        image.destination.PutReferrer(subject, artifact_desc, artifact));
  absl::PrintF("published side index artifact %s for %d layer(s) to %s (%s)\n", artifact_desc.digest.str(),
               indexes.size(), image.destination.Describe(), found_by);
  return absl::OkStatus();
}

// Without DEST, the artifact goes where the image is: beside it in its repository, or into its layout.
absl::StatusOr<std::unique_ptr<side_index::SideIndexDestination>> OpenDestination(
    const converter::ImageRef& ref, converter::ImageEndpoints& endpoints) {
  if (ref.transport == converter::ImageRef::Transport::kOciLayout) {
    TIDE_ASSIGN_OR_RETURN(oci::OciLayout layout, oci::OciLayout::Open(ref.layout_dir));
    return side_index::LayoutIndexDestination(std::move(layout));
  }
  TIDE_ASSIGN_OR_RETURN(auto client, endpoints.Client());
  TIDE_ASSIGN_OR_RETURN(registry::Reference repo, registry::Reference::Parse(ref.reference));
  return side_index::RegistryIndexDestination(std::move(client), std::move(repo));
}

absl::Status RunIndex(const IndexFlags& flags) {
  TIDE_ASSIGN_OR_RETURN(converter::ImageRef ref, converter::ImageRef::Parse(flags.source));
  converter::ImageRef dest_ref = ref;
  if (!flags.destination.empty()) {
    TIDE_ASSIGN_OR_RETURN(dest_ref, converter::ImageRef::Parse(flags.destination));
  }
  TIDE_ASSIGN_OR_RETURN(uint64_t spacing, ParseSize(flags.spacing));
  if (spacing < (64 << 10) || spacing > (32 << 20))
    return absl::InvalidArgumentError("--spacing must be between 64KiB and 32MiB");
  std::optional<profile::StartupProfile> profile;
  if (!flags.profile.empty()) {
    TIDE_ASSIGN_OR_RETURN(profile, profile::ReadProfileFile(flags.profile));
  }
  converter::ImageEndpoints endpoints(flags.registry);
  TIDE_ASSIGN_OR_RETURN(auto source, endpoints.OpenSource(ref));
  TIDE_ASSIGN_OR_RETURN(auto destination, OpenDestination(dest_ref, endpoints));
  ImageContext image{*source, *destination, profile ? &*profile : nullptr, spacing};
  TIDE_ASSIGN_OR_RETURN(converter::RootObject root, source->FetchRoot());
  if (!oci::IsIndex(root.descriptor.media_type) && root.bytes.find("\"manifests\"") == std::string::npos)
    return IndexManifest(image, root.descriptor, root.bytes);
  TIDE_ASSIGN_OR_RETURN(oci::Index index, oci::Index::Parse(root.bytes, source->Describe()));
  for (const oci::Descriptor& entry : index.manifests) {
    if (!oci::IsManifest(entry.media_type)) continue;
    TIDE_ASSIGN_OR_RETURN(std::string bytes, source->FetchBlob(entry));
    TIDE_RETURN_IF_ERROR(IndexManifest(image, entry, bytes));
  }
  return absl::OkStatus();
}

}  // namespace

void AddIndexCommand(CLI::App& app) {
  auto flags = std::make_shared<IndexFlags>();
  CLI::App* cmd = app.add_subcommand(
      "index", "Publish gzip side indexes for an unchanged image, so tide-snapshotter can start it lazily");
  cmd->add_option("SRC", flags->source, "Image: docker://HOST/REPO[:TAG|@DIGEST] or oci:DIR[:TAG]")
      ->required();
  cmd->add_option(
      "DEST", flags->destination,
      "Where to publish the artifact, if not beside SRC: a registry repository (docker://HOST/REPO) "
      "or OCI layout (oci:DIR) that holds the same image manifest");
  cmd->add_option("--profile", flags->profile, "Startup profile: its reads become each layer's startup set");
  cmd->add_option("--spacing", flags->spacing,
                  "Compressed bytes between inflate checkpoints (default 1MiB; docs/format.md §12)");
  cmd->add_flag("--plain-http", flags->registry.plain_http,
                "Use http for registries without hosts.toml entries");
  cmd->add_option("--hosts-dir", flags->registry.hosts_dir,
                  "containerd hosts.toml directory (certs.d layout)");
  cmd->callback([flags] {
    absl::Status s = RunIndex(*flags);
    if (!s.ok()) {
      absl::FPrintF(stderr, "tidectl index: %s\n", s.message());
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace tide::tidectl
