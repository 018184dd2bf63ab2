#include "converter/profile_command.h"

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "converter/image_endpoints.h"
#include "converter/image_ref.h"
#include "oci/index.h"
#include "oci/manifest.h"
#include "oci/media_types.h"
#include "profile/startup_profile.h"

namespace tide::converter {

namespace {

struct ExportFlags {
  std::string image;
  std::string root = "/var/lib/tide-snapshotter";
  std::string output;
  RegistryFlags registry;
};

absl::StatusOr<std::vector<oci::Descriptor>> ImageLayers(const ExportFlags& flags) {
  TIDE_ASSIGN_OR_RETURN(ImageRef ref, ImageRef::Parse(flags.image));
  ImageEndpoints endpoints(flags.registry);
  TIDE_ASSIGN_OR_RETURN(std::unique_ptr<ImageSource> source, endpoints.OpenSource(ref));
  TIDE_ASSIGN_OR_RETURN(RootObject root, source->FetchRoot());
  if (oci::IsIndex(root.descriptor.media_type)) {
    TIDE_ASSIGN_OR_RETURN(oci::Index index, oci::Index::Parse(root.bytes));
    if (index.manifests.empty())
      return absl::InvalidArgumentError(absl::StrCat(flags.image, ": empty index"));
    TIDE_ASSIGN_OR_RETURN(root.bytes, source->FetchBlob(index.manifests.front()));
  }
  TIDE_ASSIGN_OR_RETURN(oci::Manifest manifest, oci::Manifest::Parse(root.bytes));
  return manifest.layers;
}

// Joins the per-layer profiles the snapshotter keeps (<root>/profiles/<hex>.profile), bottom
// layer first.
absl::StatusOr<profile::StartupProfile> ExportProfile(const ExportFlags& flags) {
  TIDE_ASSIGN_OR_RETURN(std::vector<oci::Descriptor> layers, ImageLayers(flags));
  profile::StartupProfile out;
  for (const oci::Descriptor& layer : layers) {
    std::string path = absl::StrCat(flags.root, "/profiles/", std::string(layer.digest.hex()), ".profile");
    auto kept = profile::ReadProfileFile(path);
    if (absl::IsNotFound(kept.status())) continue;
    if (!kept.ok()) return kept.status();
    size_t index = out.AddLayer(layer.digest);
    for (const profile::ProfileRead& r : kept->reads)
      out.reads.push_back({index, r.path, r.offset, r.length});
  }
  if (out.layers.empty()) {
    return absl::NotFoundError(absl::StrCat("no learned profile for any layer of ", flags.image, " under ",
                                            flags.root, "/profiles"));
  }
  return out;
}

int RunExport(const ExportFlags& flags) {
  auto prof = ExportProfile(flags);
  if (!prof.ok()) {
    absl::FPrintF(stderr, "tidectl profile export: %s\n", prof.status().message());
    return 1;
  }
  if (flags.output.empty() || flags.output == "-") {
    absl::PrintF("%s", profile::SerializeProfile(*prof));
    return 0;
  }
  absl::Status s = profile::WriteProfileFile(*prof, flags.output);
  if (!s.ok()) {
    absl::FPrintF(stderr, "tidectl profile export: %s\n", s.message());
    return 1;
  }
  return 0;
}

}  // namespace

void AddProfileCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("profile", "Startup profiles learned by tide-snapshotter");
  cmd->require_subcommand(1);
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* exp = cmd->add_subcommand("export", "Write an image's learned startup profile");
  exp->add_option("IMAGE", flags->image, "Image: docker://HOST/REPO[:TAG|@DIGEST] or oci:DIR[:TAG]")
      ->required();
  exp->add_option("--root", flags->root, "tide-snapshotter's root directory")->capture_default_str();
  exp->add_option("-o,--output", flags->output, "Output file (default: stdout)");
  exp->add_flag("--plain-http", flags->registry.plain_http,
                "Use http for registries without hosts.toml entries");
  exp->add_option("--hosts-dir", flags->registry.hosts_dir,
                  "containerd hosts.toml directory (certs.d layout)");
  exp->callback([flags] {
    int rc = RunExport(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace tide::converter
