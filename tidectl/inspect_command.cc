#include "tidectl/inspect_command.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "common/string_view_compat.h"
#include "common/unique_fd.h"
#include "converter/image_endpoints.h"
#include "format/annotations.h"
#include "format/blob_reader.h"
#include "format/estargz/estargz_footer.h"
#include "format/estargz/estargz_reader.h"
#include "format/gzip_index/gzip_index_reader.h"
#include "format/zstd_chunked/containers_storage_toc.h"
#include "layer/layer_mount_manager.h"
#include "oci/index.h"
#include "oci/manifest.h"
#include "oci/media_types.h"
#include "side_index/side_index_finder.h"
#include "tidectl/layer_report.h"

namespace tide::tidectl {

namespace {

struct InspectFlags {
  std::string source;
  std::string blob;
  bool entries = false;
  converter::RegistryFlags registry;
};

absl::Status InspectBlobFile(const InspectFlags& flags) {
  UniqueFd fd(::open(flags.blob.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("open ", flags.blob, ": ", std::strerror(errno)));
  }
  format::FdRangeReader reader(fd.get());
  auto index = format::LoadIndexFromFooter(reader, static_cast<uint64_t>(st.st_size));
  if (!index.ok())
    return absl::Status(index.status().code(), absl::StrCat(flags.blob, ": ", index.status().message()));
  absl::PrintF("blob %s\n", flags.blob);
  PrintIndexSummary(stdout, *index, static_cast<uint64_t>(st.st_size));
  if (flags.entries) PrintEntries(stdout, *index);
  return absl::OkStatus();
}

std::string Annotation(const oci::Descriptor& d, std::string_view key) {
  auto it = d.annotations.find(std::string(key));
  return it == d.annotations.end() ? std::string() : it->second;
}

// An eStargz or zstd:chunked layer: its TOC, verified against the annotation, read into the common entry
// table.
absl::Status InspectEstargzLayer(converter::ImageSource& source, const oci::Descriptor& layer, bool entries) {
  auto toc_digest = Digest::Parse(Annotation(layer, format::kEstargzTocDigestAnnotation));
  if (!toc_digest.ok()) {
    absl::PrintF("    path: fallback (toc.digest annotation: %s)\n", toc_digest.status().message());
    return absl::OkStatus();
  }
  TIDE_ASSIGN_OR_RETURN(auto reader, source.OpenLayerRanges(layer));
  auto index = format::LoadStargzTocLayerIndex(*reader, static_cast<uint64_t>(layer.size), *toc_digest);
  if (!index.ok()) {
    absl::PrintF("    path: fallback (stargz TOC: %s)\n", index.status().message());
    return absl::OkStatus();
  }
  absl::PrintF("    path: %s (TOC %s)\n", Sv(format::LayerFormatName(index->format())), toc_digest->str());
  PrintIndexSummary(stdout, *index, static_cast<uint64_t>(layer.size));
  if (entries) PrintEntries(stdout, *index);
  return absl::OkStatus();
}

// containers/storage's zstd:chunked layer: its TOC where the annotation puts it, verified against
// the manifest-checksum annotation.
absl::Status InspectContainersStorageLayer(converter::ImageSource& source, const oci::Descriptor& layer,
                                           bool entries) {
  auto where = layer::IndexLocationFromAnnotations(layer.annotations, static_cast<uint64_t>(layer.size));
  if (!where.ok()) {
    absl::PrintF("    path: fallback (zstd:chunked annotations: %s)\n", where.status().message());
    return absl::OkStatus();
  }
  TIDE_ASSIGN_OR_RETURN(auto reader, source.OpenLayerRanges(layer));
  std::string compressed;
  absl::Status read = reader->ReadAt(where->offset, static_cast<size_t>(where->size), &compressed);
  auto index = read.ok() ? format::LoadContainersStorageToc(compressed, where->offset, where->digest)
                         : absl::StatusOr<format::LayerIndex>(read);
  if (!index.ok()) {
    absl::PrintF("    path: fallback (zstd:chunked TOC: %s)\n", index.status().message());
    return absl::OkStatus();
  }
  absl::PrintF("    path: zstd:chunked (containers/storage TOC %s)\n", where->digest.str());
  PrintIndexSummary(stdout, *index, static_cast<uint64_t>(layer.size));
  if (entries) PrintEntries(stdout, *index);
  return absl::OkStatus();
}

// Where a registry image's gzip side indexes are looked up (tidectl index publishes them).
struct SideIndexes {
  registry::RegistryClient* client = nullptr;  // null: not a registry image
  registry::Reference repo;
  std::unique_ptr<side_index::SideIndexFinder> finder;
};

// A layer without an index of its own: its image's gzip side index, if one covers it.
absl::Status InspectSideIndexedLayer(SideIndexes& side, const Digest& manifest, const oci::Descriptor& layer,
                                     bool entries) {
  const std::string none = absl::StrCat("no ", Sv(format::kAnnotationIndexDigest), " or ",
                                        Sv(format::kEstargzTocDigestAnnotation), " annotation");
  if (side.client == nullptr || oci::LayerCompression(layer.media_type) != oci::Compression::kGzip) {
    absl::PrintF("    path: fallback (%s)\n", none);
    return absl::OkStatus();
  }
  auto blob = side.finder->Find(side.repo, manifest, layer.digest);
  if (!blob.ok()) {
    absl::PrintF("    path: fallback (%s; %s)\n", none, blob.status().message());
    return absl::OkStatus();
  }
  auto frame = side_index::FetchIndexBlob(*side.client, side.repo, *blob);
  auto index = frame.ok() ? format::LoadGzipIndex(*frame, layer.digest, static_cast<uint64_t>(layer.size))
                          : absl::StatusOr<format::LayerIndex>(frame.status());
  if (!index.ok()) {
    absl::PrintF("    path: fallback (gzip side index %s: %s)\n", blob->digest.str(),
                 index.status().message());
    return absl::OkStatus();
  }
  absl::PrintF("    path: gzip+index (side index %s, %d bytes)\n", blob->digest.str(), blob->size);
  PrintIndexSummary(stdout, *index, static_cast<uint64_t>(layer.size));
  if (entries) PrintEntries(stdout, *index);
  return absl::OkStatus();
}

absl::Status InspectLayer(converter::ImageSource& source, SideIndexes& side, const Digest& manifest,
                          const oci::Descriptor& layer, size_t number, bool entries) {
  absl::PrintF("  layer %d %s %s %d bytes\n", number, layer.digest.str(), layer.media_type, layer.size);
  std::string digest_text = Annotation(layer, format::kAnnotationIndexDigest);
  if (digest_text.empty() && !Annotation(layer, format::kEstargzTocDigestAnnotation).empty())
    return InspectEstargzLayer(source, layer, entries);
  if (digest_text.empty() && !Annotation(layer, format::kContainersStorageTocChecksumAnnotation).empty())
    return InspectContainersStorageLayer(source, layer, entries);
  if (digest_text.empty()) return InspectSideIndexedLayer(side, manifest, layer, entries);
  absl::PrintF("    path: tide\n");
  uint64_t offset = 0;
  uint64_t size = 0;
  auto index_digest = Digest::Parse(digest_text);
  if (!index_digest.ok() || !absl::SimpleAtoi(Annotation(layer, format::kAnnotationIndexOffset), &offset) ||
      !absl::SimpleAtoi(Annotation(layer, format::kAnnotationIndexSize), &size)) {
    return absl::InvalidArgumentError(
        absl::StrCat("layer ", layer.digest.str(), ": malformed tide annotations"));
  }
  TIDE_ASSIGN_OR_RETURN(auto reader, source.OpenLayerRanges(layer));
  auto index = format::LoadIndexAt(*reader, offset, size, *index_digest);
  if (!index.ok()) {
    return absl::Status(index.status().code(),
                        absl::StrCat("layer ", layer.digest.str(), ": ", index.status().message()));
  }
  PrintIndexSummary(stdout, *index, static_cast<uint64_t>(layer.size));
  if (entries) PrintEntries(stdout, *index);
  return absl::OkStatus();
}

absl::Status InspectManifest(converter::ImageSource& source, SideIndexes& side, const oci::Descriptor& desc,
                             const std::string& bytes, bool entries) {
  TIDE_ASSIGN_OR_RETURN(oci::Manifest m,
                        oci::Manifest::Parse(bytes, absl::StrCat("manifest ", desc.digest.str())));
  absl::PrintF("manifest %s%s\n", desc.digest.str(),
               desc.platform ? absl::StrCat(" (", desc.platform->ToString(), ")") : std::string());
  for (size_t i = 0; i < m.layers.size(); ++i)
    TIDE_RETURN_IF_ERROR(InspectLayer(source, side, desc.digest, m.layers[i], i + 1, entries));
  return absl::OkStatus();
}

absl::Status InspectImage(const InspectFlags& flags) {
  TIDE_ASSIGN_OR_RETURN(converter::ImageRef ref, converter::ImageRef::Parse(flags.source));
  converter::ImageEndpoints endpoints(flags.registry);
  TIDE_ASSIGN_OR_RETURN(auto source, endpoints.OpenSource(ref));
  SideIndexes side;
  std::shared_ptr<registry::RegistryClient> client;
  if (ref.transport == converter::ImageRef::Transport::kRegistry) {
    TIDE_ASSIGN_OR_RETURN(client, endpoints.Client());
    TIDE_ASSIGN_OR_RETURN(side.repo, registry::Reference::Parse(ref.reference));
    side.client = client.get();
    side.finder = std::make_unique<side_index::SideIndexFinder>(*client);
  }
  TIDE_ASSIGN_OR_RETURN(converter::RootObject root, source->FetchRoot());
  if (!oci::IsIndex(root.descriptor.media_type) && root.bytes.find("\"manifests\"") == std::string::npos) {
    return InspectManifest(*source, side, root.descriptor, root.bytes, flags.entries);
  }
  TIDE_ASSIGN_OR_RETURN(oci::Index index, oci::Index::Parse(root.bytes, source->Describe()));
  absl::PrintF("index %s (%d manifests)\n", root.descriptor.digest.str(), index.manifests.size());
  for (const oci::Descriptor& entry : index.manifests) {
    if (!oci::IsManifest(entry.media_type)) continue;
    TIDE_ASSIGN_OR_RETURN(std::string bytes, source->FetchBlob(entry));
    TIDE_RETURN_IF_ERROR(InspectManifest(*source, side, entry, bytes, flags.entries));
  }
  return absl::OkStatus();
}

}  // namespace

void AddInspectCommand(CLI::App& app) {
  auto flags = std::make_shared<InspectFlags>();
  CLI::App* cmd =
      app.add_subcommand("inspect", "Print the tide index summary of an image's layers or of one blob");
  auto* src =
      cmd->add_option("SRC", flags->source, "Image: oci:DIR[:TAG] or docker://HOST/REPO[:TAG|@DIGEST]");
  auto* blob = cmd->add_option("--blob", flags->blob, "A single tide layer blob file");
  src->excludes(blob);
  cmd->add_flag("--entries", flags->entries, "Also list every entry");
  cmd->add_flag("--plain-http", flags->registry.plain_http,
                "Use http for registries without hosts.toml entries");
  cmd->add_option("--hosts-dir", flags->registry.hosts_dir,
                  "containerd hosts.toml directory (certs.d layout)");
  cmd->callback([flags] {
    absl::Status s;
    if (!flags->blob.empty()) {
      s = InspectBlobFile(*flags);
    } else if (!flags->source.empty()) {
      s = InspectImage(*flags);
    } else {
      s = absl::InvalidArgumentError("give an image SRC or --blob FILE");
    }
    if (!s.ok()) {
      absl::FPrintF(stderr, "tidectl inspect: %s\n", s.message());
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace tide::tidectl
