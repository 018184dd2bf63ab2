#include "tidectl/profile_command.h"

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
#include "profile/read_order.h"
#include "profile/startup_profile.h"

namespace tide::tidectl {

namespace {

struct ExportFlags {
  std::string image;
  std::string root = "/var/lib/tide-snapshotter";
  std::string output;
  converter::RegistryFlags registry;
};

absl::StatusOr<std::vector<oci::Descriptor>> ImageLayers(const ExportFlags& flags) {
  TIDE_ASSIGN_OR_RETURN(converter::ImageRef ref, converter::ImageRef::Parse(flags.image));
  converter::ImageEndpoints endpoints(flags.registry);
  TIDE_ASSIGN_OR_RETURN(std::unique_ptr<converter::ImageSource> source, endpoints.OpenSource(ref));
  TIDE_ASSIGN_OR_RETURN(converter::RootObject root, source->FetchRoot());
  if (oci::IsIndex(root.descriptor.media_type)) {
    TIDE_ASSIGN_OR_RETURN(oci::Index index, oci::Index::Parse(root.bytes));
    if (index.manifests.empty())
      return absl::InvalidArgumentError(absl::StrCat(flags.image, ": empty index"));
    TIDE_ASSIGN_OR_RETURN(root.bytes, source->FetchBlob(index.manifests.front()));
  }
  TIDE_ASSIGN_OR_RETURN(oci::Manifest manifest, oci::Manifest::Parse(root.bytes));
  return manifest.layers;
}

// Joins the per-layer profiles the snapshotter keeps (<root>/profiles/<hex>.profile) into one
// profile. Reads are in the order they happened across layers when every kept layer has its read
// order (<hex>.order); otherwise layer by layer, bottom layer first.
absl::StatusOr<profile::StartupProfile> ExportProfile(const ExportFlags& flags) {
  TIDE_ASSIGN_OR_RETURN(std::vector<oci::Descriptor> layers, ImageLayers(flags));
  std::vector<profile::StartupProfile> kept;
  std::vector<std::vector<uint64_t>> orders;
  bool ordered = true;
  for (const oci::Descriptor& layer : layers) {
    const std::string base = absl::StrCat(flags.root, "/profiles/", std::string(layer.digest.hex()));
    auto prof = profile::ReadProfileFile(base + ".profile");
    if (absl::IsNotFound(prof.status())) continue;
    if (!prof.ok()) return prof.status();
    // Kept profiles name the layer by its blob digest; export names it the same way.
    prof->layers = {layer.digest};
    auto order = profile::ReadReadOrder(base + ".order", prof->reads.size());
    ordered = ordered && order.ok();
    orders.push_back(order.ok() ? *std::move(order) : std::vector<uint64_t>{});
    kept.push_back(*std::move(prof));
  }
  if (kept.empty()) {
    return absl::NotFoundError(absl::StrCat("no learned profile for any layer of ", flags.image, " under ",
                                            flags.root, "/profiles"));
  }
  if (!ordered) orders.clear();  // equal (missing) numbers: the stable merge keeps layer order
  return profile::MergeByReadOrder(kept, orders);
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

}  // namespace tide::tidectl
