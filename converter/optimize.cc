#include "converter/optimize.h"

#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "common/status_macros.h"
#include "converter/image_ref.h"
#include "profile/scratch_dir.h"

namespace tide::converter {

absl::StatusOr<profile::SandboxResult> RecordStartupProfile(
    std::string_view source, const RegistryFlags& registry, const ConvertOptions& options, bool quiet,
    const WorkloadOptions& workload, const std::function<void(const ImageRefConversion&)>& converted) {
  TIDE_ASSIGN_OR_RETURN(profile::ScratchDir scratch,
                        profile::ScratchDir::Create(workload.work_dir, "tide-optimize"));
  std::filesystem::path layout = scratch.path() / "layout";
  TIDE_ASSIGN_OR_RETURN(ImageRef src_ref, ImageRef::Parse(source));
  TIDE_ASSIGN_OR_RETURN(ImageRef layout_ref, ImageRef::Parse("oci:" + layout.string() + ":record"));
  TIDE_ASSIGN_OR_RETURN(ImageRefConversion done,
                        ConvertImageRefs(src_ref, layout_ref, registry, options, quiet));
  converted(done);
  profile::SandboxOptions sandbox;
  sandbox.layout_dir = layout;
  sandbox.tag = "record";
  if (!workload.run.empty()) sandbox.command = {"/bin/sh", "-c", workload.run};
  sandbox.ready_line = workload.ready_line;
  sandbox.ready_port = workload.ready_port;
  sandbox.timeout_seconds = workload.timeout_seconds;
  sandbox.work_dir = scratch.path() / "sandbox";
  sandbox.echo = workload.echo;
  sandbox.network = workload.network;
  sandbox.user_namespace = workload.user_namespace;
  sandbox.limits = workload.limits;
  sandbox.readahead_kb = workload.readahead_kb;
  return profile::RecordStartup(sandbox);
}

StartupForLayer StartupFilesFromProfile(profile::StartupProfile profile) {
  auto shared = std::make_shared<const profile::StartupProfile>(std::move(profile));
  return [shared](const oci::Descriptor& source, const Digest& diff_id) {
    int layer = shared->FindLayer(diff_id);
    if (layer < 0) layer = shared->FindLayer(source.digest);
    if (layer < 0) return std::vector<format::StartupFile>{};
    return shared->StartupFilesOf(static_cast<size_t>(layer));
  };
}

}  // namespace tide::converter
