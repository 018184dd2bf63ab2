#include "tidectl/optimize_command.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "converter/convert_image_refs.h"
#include "converter/image_ref.h"
#include "profile/sandbox_recorder.h"
#include "profile/scratch_dir.h"
#include "profile/startup_profile.h"
#include "tidectl/conversion_flags.h"

namespace tide::tidectl {

namespace {

struct OptimizeFlags : ConversionFlags {
  std::string source;
  std::string destination;
  std::string profile_in;
  std::string profile_out;
  std::string run;
  std::string ready_line;
  int ready_port = 0;
  double timeout = 60;
  std::string work_dir;
};

int Fail(const std::string& message) {
  absl::FPrintF(stderr, "tidectl optimize: %s\n", message);
  return 1;
}

absl::Status Convert(const OptimizeFlags& flags, const std::string& src, const std::string& dst,
                     converter::ConvertOptions options) {
  TIDE_ASSIGN_OR_RETURN(converter::ImageRef src_ref, converter::ImageRef::Parse(src));
  TIDE_ASSIGN_OR_RETURN(converter::ImageRef dst_ref, converter::ImageRef::Parse(dst));
  TIDE_ASSIGN_OR_RETURN(converter::ImageRefConversion converted,
                        converter::ConvertImageRefs(src_ref, dst_ref, flags.registry, options, flags.quiet));
  absl::PrintF("converted %s -> %s (%d layer(s), %.1f MB tide)\n", converted.source, converted.destination,
               converted.summary.layers, static_cast<double>(converted.summary.output_bytes) / 1e6);
  return absl::OkStatus();
}

// Converts SRC into a scratch layout and runs its workload there, recording what it reads.
absl::StatusOr<profile::StartupProfile> RecordProfile(const OptimizeFlags& flags,
                                                      const converter::ConvertOptions& base) {
  TIDE_ASSIGN_OR_RETURN(profile::ScratchDir scratch,
                        profile::ScratchDir::Create(flags.work_dir, "tide-optimize"));
  std::filesystem::path layout = scratch.path() / "layout";
  TIDE_RETURN_IF_ERROR(Convert(flags, flags.source, "oci:" + layout.string() + ":record", base));
  profile::SandboxOptions sandbox;
  sandbox.layout_dir = layout;
  sandbox.tag = "record";
  if (!flags.run.empty()) sandbox.command = {"/bin/sh", "-c", flags.run};
  sandbox.ready_line = flags.ready_line;
  sandbox.ready_port = flags.ready_port;
  sandbox.timeout_seconds = flags.timeout;
  sandbox.work_dir = scratch.path() / "sandbox";
  sandbox.echo = flags.quiet ? nullptr : stderr;
  TIDE_ASSIGN_OR_RETURN(profile::SandboxResult result, profile::RecordStartup(sandbox));
  if (!result.ready && (!flags.ready_line.empty() || flags.ready_port != 0)) {
    absl::FPrintF(stderr, "tidectl optimize: warning: workload %s before it was ready; using what it read\n",
                  result.exit_code >= 0 ? absl::StrFormat("exited with %d", result.exit_code) : "timed out");
  }
  return std::move(result.profile);
}

int RunOptimize(const OptimizeFlags& flags) {
  auto base = ToConvertOptions(flags);
  if (!base.ok()) return Fail(std::string(base.status().message()));
  if (!flags.profile_in.empty() && !flags.run.empty()) return Fail("--profile and --run exclude each other");
  absl::StatusOr<profile::StartupProfile> prof =
      flags.profile_in.empty() ? RecordProfile(flags, *base) : profile::ReadProfileFile(flags.profile_in);
  if (!prof.ok()) return Fail(std::string(prof.status().message()));
  if (!flags.profile_out.empty()) {
    absl::Status s = profile::WriteProfileFile(*prof, flags.profile_out);
    if (!s.ok()) return Fail(std::string(s.message()));
  }
  absl::PrintF("startup profile: %d read(s) over %d layer(s)\n", prof->reads.size(), prof->layers.size());
  converter::ConvertOptions options = *base;
  auto shared = std::make_shared<profile::StartupProfile>(std::move(*prof));
  options.startup_for_layer = [shared](const oci::Descriptor& source, const Digest& diff_id) {
    int layer = shared->FindLayer(diff_id);
    if (layer < 0) layer = shared->FindLayer(source.digest);
    if (layer < 0) return std::vector<format::StartupFile>{};
    return shared->StartupFilesOf(static_cast<size_t>(layer));
  };
  absl::Status s = Convert(flags, flags.source, flags.destination, options);
  if (!s.ok()) return Fail(std::string(s.message()));
  return 0;
}

}  // namespace

void AddOptimizeCommand(CLI::App& app) {
  auto flags = std::make_shared<OptimizeFlags>();
  CLI::App* cmd =
      app.add_subcommand("optimize", "Convert an image with each layer's startup set placed first");
  cmd->add_option("SRC", flags->source, "Source image: oci:DIR[:TAG] or docker://HOST/REPO[:TAG|@DIGEST]")
      ->required();
  cmd->add_option("DST", flags->destination, "Destination: oci:DIR[:TAG] or docker://HOST/REPO[:TAG]")
      ->required();
  cmd->add_option("--profile", flags->profile_in, "Startup profile to apply (docs/profiles.md)");
  cmd->add_option("--profile-out", flags->profile_out, "Also write the profile used here to this file");
  cmd->add_option("--run", flags->run,
                  "Record the profile by running this shell command in the image (default: its entrypoint)");
  cmd->add_option("--ready-line", flags->ready_line,
                  "The workload is ready when a stdout line contains this");
  cmd->add_option("--ready-port", flags->ready_port, "The workload is ready when 127.0.0.1:PORT accepts")
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--timeout", flags->timeout, "Seconds to run the workload at most")->capture_default_str();
  cmd->add_option("--work-dir", flags->work_dir, "Scratch directory (default: $TMPDIR or /tmp)");
  AddConversionFlags(cmd, flags.get());
  cmd->callback([flags] {
    int rc = RunOptimize(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace tide::tidectl
